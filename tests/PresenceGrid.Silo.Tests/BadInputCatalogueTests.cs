using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace PresenceGrid.Silo.Tests;

/// <summary>
/// The bad-input catalogue: malformed requests of every kind against the HTTP API of one running silo (tokens on, the
/// default <c>rc_presence</c> of one change per 10 s). Each must answer its status and errcode in the documented
/// <c>{"errcode","error"}</c> shape (never a 5xx), change nothing (the case's user reads the same, to itself and to a user
/// in a room it has not joined) and use none of the user's rate-limit allowance (a valid change for that user succeeds
/// right after).
/// </summary>
/// <remarks>
/// Three defect classes are fixed in parallel and join the catalogue at integration: invalid UTF-8 inside a JSON string
/// (issue 18, item 1), Kestrel-level rejections with empty bodies (item 3: NUL in the path, 414, 431) and the lower-case
/// <c>bearer</c> scheme (item 4).
/// </remarks>
public sealed class BadInputCatalogueTests(BadInputCatalogueTests.CatalogueSilo silo) : IClassFixture<BadInputCatalogueTests.CatalogueSilo>
{
    private const string Token = "catalogue-token-0123456789";
    private const string Json = "application/json";
    private const string Online = """{"presence":"online"}""";
    private const string FederationItem = "errors[0]";

    /// <summary>One bad request. In paths and bodies, <c>{u}</c> is the case's own user (<c>{uid}</c> unescaped), <c>{room}</c> its room.</summary>
    public sealed record Case(string Method, string Path, string? Body, int Status, string ErrCode)
    {
        public string? ContentType { get; init; } = Json;

        public string? Authorization { get; init; } = "Bearer " + Token;

        public byte[]? RawBody { get; init; }

        /// <summary>Where the errcode is: the answer itself, or <see cref="FederationItem"/> of a 200.</summary>
        public string ErrCodeAt { get; init; } = "errcode";
    }

    private static Case Put(string body, int status, string errCode) => new("PUT", "/v1/presence/{u}/status", body, status, errCode);

    private static Case PutAs(string user, int status, string errCode) => new("PUT", $"/v1/presence/{Uri.EscapeDataString(user)}/status", Online, status, errCode);

    private static Case Federation(string item) =>
        new("POST", "/v1/federation/incoming", $$$"""{"origin":"remote.org","edu_type":"m.presence","content":{"push":[{{{item}}}]}}""", 200, "") { ErrCodeAt = FederationItem };

    private static Case Ingest(string item, string errCode) =>
        new("POST", "/v1/ingest/states", $$$"""{"states":[{{{item}}}]}""", 200, errCode) { ErrCodeAt = FederationItem };

    private static readonly string Deep = string.Concat(Enumerable.Repeat("[", 100)) + string.Concat(Enumerable.Repeat("]", 100));

    private static readonly Dictionary<string, Case> Catalogue = new()
    {
        // Bad MXIDs in the path.
        ["mxid: no sigil"] = PutAs("alice", 400, "M_INVALID_PARAM"),
        ["mxid: no server"] = PutAs("@alice", 400, "M_INVALID_PARAM"),
        ["mxid: empty localpart"] = PutAs("@:test", 400, "M_INVALID_PARAM"),
        ["mxid: empty server"] = PutAs("@alice:", 400, "M_INVALID_PARAM"),
        ["mxid: space"] = PutAs("@ali ce:test", 400, "M_INVALID_PARAM"),
        ["mxid: bad host"] = PutAs("@alice:bad host!", 400, "M_INVALID_PARAM"),
        ["mxid: port too big"] = PutAs("@alice:test:99999", 400, "M_INVALID_PARAM"),
        ["mxid: room alias"] = PutAs("#alice:test", 400, "M_INVALID_PARAM"),
        ["mxid: room id"] = PutAs("!alice:test", 400, "M_INVALID_PARAM"),
        ["mxid: too long"] = PutAs("@" + new string('a', 300) + ":test", 400, "M_INVALID_PARAM"),
        ["mxid: newline"] = PutAs("@alice:test\n", 400, "M_INVALID_PARAM"),
        ["mxid: non-ASCII"] = PutAs("@älice:test", 400, "M_INVALID_PARAM"),
        ["mxid: broken IPv6"] = PutAs("@alice:[::1", 400, "M_INVALID_PARAM"),
        ["mxid: remote user"] = PutAs("@alice:remote.org", 400, "M_INVALID_PARAM"),

        // Presence values.
        ["presence: empty"] = Put("""{"presence":""}""", 400, "M_INVALID_PARAM"),
        ["presence: capitalised"] = Put("""{"presence":"Online"}""", 400, "M_INVALID_PARAM"),
        ["presence: upper case"] = Put("""{"presence":"ONLINE"}""", 400, "M_INVALID_PARAM"),
        ["presence: busy unprefixed"] = Put("""{"presence":"busy"}""", 400, "M_INVALID_PARAM"),
        ["presence: busy not enabled"] = Put("""{"presence":"org.matrix.msc3026.busy"}""", 400, "M_INVALID_PARAM"),
        ["presence: away"] = Put("""{"presence":"away"}""", 400, "M_INVALID_PARAM"),
        ["presence: trailing space"] = Put("""{"presence":"online "}""", 400, "M_INVALID_PARAM"),
        ["presence: a number"] = Put("""{"presence":1}""", 400, "M_BAD_JSON"),
        ["presence: null"] = Put("""{"presence":null}""", 400, "M_BAD_JSON"),
        ["presence: a list"] = Put("""{"presence":["online"]}""", 400, "M_BAD_JSON"),
        ["presence: an object"] = Put("""{"presence":{"state":"online"}}""", 400, "M_BAD_JSON"),
        ["presence: a boolean"] = Put("""{"presence":true}""", 400, "M_BAD_JSON"),

        // Bodies and encodings.
        ["body: empty"] = Put(string.Empty, 400, "M_NOT_JSON"),
        ["body: a list"] = Put("[]", 400, "M_BAD_JSON"),
        ["body: null"] = Put("null", 400, "M_BAD_JSON"),
        ["body: a string"] = Put("\"online\"", 400, "M_BAD_JSON"),
        ["body: truncated"] = Put("{", 400, "M_NOT_JSON"),
        ["body: no presence"] = Put("{}", 400, "M_BAD_JSON"),
        ["body: unknown field"] = Put("""{"presence":"online","mood":"great"}""", 400, "M_BAD_JSON"),
        ["body: status_msg a number"] = Put("""{"presence":"online","status_msg":123}""", 400, "M_BAD_JSON"),
        ["body: device_id a number"] = Put("""{"presence":"online","device_id":5}""", 400, "M_BAD_JSON"),
        ["body: trailing garbage"] = Put("""{"presence":"online"} x""", 400, "M_NOT_JSON"),
        ["body: trailing comma"] = Put("""{"presence":"online",}""", 400, "M_NOT_JSON"),
        ["body: comment"] = Put("""{"presence":"online" /* hi */}""", 400, "M_NOT_JSON"),
        ["body: NaN"] = Put("""{"presence":"online","x":NaN}""", 400, "M_NOT_JSON"),
        ["body: single quotes"] = Put("{'presence':'online'}", 400, "M_NOT_JSON"),
        ["body: nested too deep"] = Put($$"""{"presence":"online","x":{{Deep}}}""", 400, "M_NOT_JSON"),
        ["body: UTF-16"] = Put(string.Empty, 400, "M_NOT_JSON") with { RawBody = Encoding.Unicode.GetBytes(Online) },
        ["body: form-encoded"] = Put("presence=online", 400, "M_NOT_JSON") with { ContentType = "application/x-www-form-urlencoded" },
        ["body: multipart"] = Put("--b\r\nContent-Disposition: form-data; name=\"presence\"\r\n\r\nonline\r\n--b--\r\n", 400, "M_NOT_JSON") with { ContentType = "multipart/form-data; boundary=b" },
        ["body: XML"] = Put("<presence>online</presence>", 400, "M_NOT_JSON") with { ContentType = "application/xml" },

        // Sizes.
        ["size: status_msg over 2048 bytes"] = Put($$"""{"presence":"online","status_msg":"{{new string('é', 1025)}}"}""", 400, "M_INVALID_PARAM"),
        ["size: body over 1 MiB"] = Put($$"""{"presence":"online","status_msg":"{{new string('x', 1 << 20)}}"}""", 413, "M_TOO_LARGE"),
        ["size: room id too long"] = new("PUT", "/v1/rooms/" + Uri.EscapeDataString("!" + new string('r', 300) + ":test") + "/members/{u}", """{"membership":"join"}""", 400, "M_INVALID_PARAM"),
        ["size: since of 4000 characters"] = new("GET", "/v1/sync/{u}?since=" + new string('s', 4000), null, 400, "M_INVALID_PARAM"),

        // GET status and its query.
        ["status: no requester"] = new("GET", "/v1/presence/{u}/status", null, 400, "M_INVALID_PARAM"),
        ["status: requester not an MXID"] = new("GET", "/v1/presence/{u}/status?requester=bob", null, 400, "M_INVALID_PARAM"),
        ["status: requester twice"] = new("GET", "/v1/presence/{u}/status?requester=%40a%3Atest&requester=%40b%3Atest", null, 400, "M_INVALID_PARAM"),
        ["status: requester remote, no shared room"] = new("GET", "/v1/presence/{u}/status?requester=%40x%3Aremote.org", null, 403, "M_FORBIDDEN"),
        ["status: requester local, no shared room"] = new("GET", "/v1/presence/{u}/status?requester=%40stranger%3Atest", null, 403, "M_FORBIDDEN"),
        ["status: target not an MXID"] = new("GET", "/v1/presence/alice/status?requester={u}", null, 400, "M_INVALID_PARAM"),

        // Devices.
        ["device sync: state pause"] = new("POST", "/v1/presence/{u}/devices/d1/sync", """{"state":"pause"}""", 400, "M_INVALID_PARAM"),
        ["device sync: no state"] = new("POST", "/v1/presence/{u}/devices/d1/sync", """{"set_presence":"online"}""", 400, "M_BAD_JSON"),
        ["device sync: state a number"] = new("POST", "/v1/presence/{u}/devices/d1/sync", """{"state":1}""", 400, "M_BAD_JSON"),
        ["device sync: set_presence dancing"] = new("POST", "/v1/presence/{u}/devices/d1/sync", """{"state":"start","set_presence":"dancing"}""", 400, "M_INVALID_PARAM"),
        ["device sync: unknown field"] = new("POST", "/v1/presence/{u}/devices/d1/sync", """{"state":"start","since":"x"}""", 400, "M_BAD_JSON"),
        ["device sync: bad user"] = new("POST", "/v1/presence/alice/devices/d1/sync", """{"state":"start"}""", 400, "M_INVALID_PARAM"),
        ["device sync: remote user"] = new("POST", "/v1/presence/%40a%3Aremote.org/devices/d1/sync", """{"state":"start"}""", 400, "M_INVALID_PARAM"),
        ["device active: bad user"] = new("POST", "/v1/presence/alice/devices/d1/active", null, 400, "M_INVALID_PARAM"),
        ["device active: remote user"] = new("POST", "/v1/presence/%40a%3Aremote.org/devices/d1/active", null, 400, "M_INVALID_PARAM"),

        // Sync and watch queries.
        ["sync: full_state yes"] = new("GET", "/v1/sync/{u}?full_state=yes", null, 400, "M_INVALID_PARAM"),
        ["sync: timeout negative"] = new("GET", "/v1/sync/{u}?timeout=-5", null, 400, "M_INVALID_PARAM"),
        ["sync: timeout words"] = new("GET", "/v1/sync/{u}?timeout=soon", null, 400, "M_INVALID_PARAM"),
        ["sync: timeout fraction"] = new("GET", "/v1/sync/{u}?timeout=1.5", null, 400, "M_INVALID_PARAM"),
        ["sync: timeout overflows a long"] = new("GET", "/v1/sync/{u}?timeout=99999999999999999999", null, 400, "M_INVALID_PARAM"),
        ["sync: timeout beyond TimeSpan, since garbage"] = new("GET", "/v1/sync/{u}?timeout=9223372036854775807&since=garbage", null, 400, "M_INVALID_PARAM"),
        ["sync: since garbage"] = new("GET", "/v1/sync/{u}?since=garbage", null, 400, "M_INVALID_PARAM"),
        ["sync: bad user"] = new("GET", "/v1/sync/alice", null, 400, "M_INVALID_PARAM"),
        ["watch: bad user"] = new("GET", "/v1/watch/alice", null, 400, "M_INVALID_PARAM"),
        ["watch: since garbage"] = new("GET", "/v1/watch/{u}?since=garbage", null, 400, "M_INVALID_PARAM"),

        // Rooms.
        ["room: no sigil"] = new("PUT", "/v1/rooms/lobby/members/{u}", """{"membership":"join"}""", 400, "M_INVALID_PARAM"),
        ["room: a user id"] = new("PUT", "/v1/rooms/%40lobby%3Atest/members/{u}", """{"membership":"join"}""", 400, "M_INVALID_PARAM"),
        ["room: an alias"] = new("PUT", "/v1/rooms/%23lobby%3Atest/members/{u}", """{"membership":"join"}""", 400, "M_INVALID_PARAM"),
        ["room: membership joined"] = new("PUT", "/v1/rooms/{room}/members/{u}", """{"membership":"joined"}""", 400, "M_INVALID_PARAM"),
        ["room: membership a number"] = new("PUT", "/v1/rooms/{room}/members/{u}", """{"membership":1}""", 400, "M_BAD_JSON"),
        ["room: no membership"] = new("PUT", "/v1/rooms/{room}/members/{u}", "{}", 400, "M_BAD_JSON"),
        ["room: unknown field"] = new("PUT", "/v1/rooms/{room}/members/{u}", """{"membership":"join","reason":"hi"}""", 400, "M_BAD_JSON"),
        ["room: bad user"] = new("PUT", "/v1/rooms/{room}/members/alice", """{"membership":"join"}""", 400, "M_INVALID_PARAM"),

        // Federation: the EDU, then its items (bad items are listed in a 200, and not applied).
        ["federation: edu_type typing"] = new("POST", "/v1/federation/incoming", """{"origin":"remote.org","edu_type":"m.typing","content":{"push":[]}}""", 400, "M_INVALID_PARAM"),
        ["federation: no content"] = new("POST", "/v1/federation/incoming", """{"origin":"remote.org","edu_type":"m.presence"}""", 400, "M_BAD_JSON"),
        ["federation: no origin"] = new("POST", "/v1/federation/incoming", """{"edu_type":"m.presence","content":{"push":[]}}""", 400, "M_BAD_JSON"),
        ["federation: bad origin"] = new("POST", "/v1/federation/incoming", """{"origin":"not a server!","edu_type":"m.presence","content":{"push":[]}}""", 400, "M_INVALID_PARAM"),
        ["federation: origin is this server"] = new("POST", "/v1/federation/incoming", """{"origin":"test","edu_type":"m.presence","content":{"push":[{"user_id":"{uid}","presence":"online"}]}}""", 200, "M_FORBIDDEN") { ErrCodeAt = FederationItem },
        ["federation: content a string"] = new("POST", "/v1/federation/incoming", """{"origin":"remote.org","edu_type":"m.presence","content":"x"}""", 400, "M_BAD_JSON"),
        ["federation: push not a list"] = new("POST", "/v1/federation/incoming", """{"origin":"remote.org","edu_type":"m.presence","content":{"push":{}}}""", 400, "M_BAD_JSON"),
        ["federation item: local user spoofed"] = Federation("""{"user_id":"{uid}","presence":"online"}""") with { ErrCode = "M_FORBIDDEN" },
        ["federation item: user of another server"] = Federation("""{"user_id":"@a:elsewhere.org","presence":"online"}""") with { ErrCode = "M_FORBIDDEN" },
        ["federation item: presence dancing"] = Federation("""{"user_id":"@a:remote.org","presence":"dancing"}""") with { ErrCode = "M_INVALID_PARAM" },
        ["federation item: no user_id"] = Federation("""{"presence":"online"}""") with { ErrCode = "M_MISSING_PARAM" },
        ["federation item: not an object"] = Federation("42") with { ErrCode = "M_BAD_JSON" },
        ["federation item: bad user_id"] = Federation("""{"user_id":"a","presence":"online"}""") with { ErrCode = "M_INVALID_PARAM" },
        ["federation item: status_msg a number"] = Federation("""{"user_id":"@a:remote.org","presence":"online","status_msg":5}""") with { ErrCode = "M_BAD_JSON" },
        ["federation item: last_active_ago negative"] = Federation("""{"user_id":"@a:remote.org","presence":"online","last_active_ago":-5}""") with { ErrCode = "M_INVALID_PARAM" },
        ["federation item: currently_active a string"] = Federation("""{"user_id":"@a:remote.org","presence":"online","currently_active":"yes"}""") with { ErrCode = "M_BAD_JSON" },
        ["federation take: limit 0"] = new("POST", "/v1/federation/outgoing/remote.org/take?limit=0", null, 400, "M_INVALID_PARAM"),
        ["federation take: limit 101"] = new("POST", "/v1/federation/outgoing/remote.org/take?limit=101", null, 400, "M_INVALID_PARAM"),
        ["federation take: limit negative"] = new("POST", "/v1/federation/outgoing/remote.org/take?limit=-1", null, 400, "M_INVALID_PARAM"),
        ["federation take: limit words"] = new("POST", "/v1/federation/outgoing/remote.org/take?limit=all", null, 400, "M_INVALID_PARAM"),
        ["federation take: bad destination"] = new("POST", "/v1/federation/outgoing/not%20a%20server%21/take", null, 400, "M_INVALID_PARAM"),

        // Module calls.
        ["module send: users a string"] = new("POST", "/v1/modules/send_local_online_presence_to", """{"users":"{uid}"}""", 400, "M_BAD_JSON"),
        ["module send: users numbers"] = new("POST", "/v1/modules/send_local_online_presence_to", """{"users":[1]}""", 400, "M_BAD_JSON"),
        ["module send: user not an MXID"] = new("POST", "/v1/modules/send_local_online_presence_to", """{"users":["bob"]}""", 400, "M_INVALID_PARAM"),
        ["module send: no users"] = new("POST", "/v1/modules/send_local_online_presence_to", "{}", 400, "M_BAD_JSON"),
        ["module set: users a list"] = new("POST", "/v1/modules/set_presence_for_users", """{"users":["{uid}"]}""", 400, "M_BAD_JSON"),
        ["module set: state a string"] = new("POST", "/v1/modules/set_presence_for_users", """{"users":{"{uid}":"online"}}""", 400, "M_BAD_JSON"),
        ["module set: presence dancing"] = new("POST", "/v1/modules/set_presence_for_users", """{"users":{"{uid}":{"presence":"dancing"}}}""", 400, "M_INVALID_PARAM"),
        ["module set: unknown field"] = new("POST", "/v1/modules/set_presence_for_users", """{"users":{"{uid}":{"presence":"online","mood":"x"}}}""", 400, "M_BAD_JSON"),
        ["module set: status_msg a number"] = new("POST", "/v1/modules/set_presence_for_users", """{"users":{"{uid}":{"presence":"online","status_msg":5}}}""", 400, "M_BAD_JSON"),
        ["module set: user not an MXID"] = new("POST", "/v1/modules/set_presence_for_users", """{"users":{"bob":{"presence":"online"}}}""", 400, "M_INVALID_PARAM"),
        ["module set: one good user, one bad"] = new("POST", "/v1/modules/set_presence_for_users", """{"users":{"{uid}":{"presence":"online"},"bob":{"presence":"online"}}}""", 400, "M_INVALID_PARAM"),
        ["module set: one good state, one bad"] = new("POST", "/v1/modules/set_presence_for_users", """{"users":{"{uid}":{"presence":"online"},"@other:test":{"presence":"dancing"}}}""", 400, "M_INVALID_PARAM"),

        // Synapse module endpoints: the body, then its items (bad items are listed in a 200, and not applied).
        ["ingest: states a string"] = new("POST", "/v1/ingest/states", """{"states":"{uid}"}""", 400, "M_BAD_JSON"),
        ["ingest: no states"] = new("POST", "/v1/ingest/states", "{}", 400, "M_BAD_JSON"),
        ["ingest: unknown field"] = new("POST", "/v1/ingest/states", """{"states":[{"user_id":"{uid}","state":"online"}],"since":1}""", 400, "M_BAD_JSON"),
        ["ingest item: state dancing"] = Ingest("""{"user_id":"{uid}","state":"dancing"}""", "M_INVALID_PARAM"),
        ["ingest item: state empty"] = Ingest("""{"user_id":"{uid}","state":""}""", "M_INVALID_PARAM"),
        ["ingest item: busy not enabled"] = Ingest("""{"user_id":"{uid}","state":"org.matrix.msc3026.busy"}""", "M_INVALID_PARAM"),
        ["ingest item: no state"] = Ingest("""{"user_id":"{uid}"}""", "M_BAD_JSON"),
        ["ingest item: state a number"] = Ingest("""{"user_id":"{uid}","state":1}""", "M_BAD_JSON"),
        ["ingest item: unknown field"] = Ingest("""{"user_id":"{uid}","state":"online","presence":"online"}""", "M_BAD_JSON"),
        ["ingest item: last_active_ts a string"] = Ingest("""{"user_id":"{uid}","state":"online","last_active_ts":"now"}""", "M_BAD_JSON"),
        ["ingest item: last_user_sync_ts negative"] = Ingest("""{"user_id":"{uid}","state":"online","last_user_sync_ts":-1}""", "M_INVALID_PARAM"),
        ["ingest item: currently_active a string"] = Ingest("""{"user_id":"{uid}","state":"online","currently_active":"yes"}""", "M_BAD_JSON"),
        ["ingest item: status_msg a number"] = Ingest("""{"user_id":"{uid}","state":"online","status_msg":5}""", "M_BAD_JSON"),
        ["ingest item: status_msg over 2048 bytes"] = Ingest($$"""{"user_id":"{uid}","state":"online","status_msg":"{{new string('é', 1025)}}"}""", "M_INVALID_PARAM"),
        ["router: states not a list"] = new("POST", "/v1/router/users_for_states", """{"states":{"{uid}":"online"}}""", 400, "M_BAD_JSON"),
        ["router: interested in a bad user"] = new("GET", "/v1/router/interested/alice", null, 400, "M_INVALID_PARAM"),

        // Explain.
        ["explain: no from"] = new("GET", "/v1/admin/explain?to={u}", null, 400, "M_INVALID_PARAM"),
        ["explain: bad to"] = new("GET", "/v1/admin/explain?from={u}&to=bob", null, 400, "M_INVALID_PARAM"),
        ["explain: nothing"] = new("GET", "/v1/admin/explain", null, 400, "M_INVALID_PARAM"),

        // Tokens.
        ["token: none"] = Put(Online, 401, "M_MISSING_TOKEN") with { Authorization = null },
        ["token: unknown"] = Put(Online, 401, "M_UNKNOWN_TOKEN") with { Authorization = "Bearer not-the-token-0123456789" },
        ["token: a prefix of the token"] = Put(Online, 401, "M_UNKNOWN_TOKEN") with { Authorization = "Bearer " + Token[..^1] },
        ["token: the token and more"] = Put(Online, 401, "M_UNKNOWN_TOKEN") with { Authorization = "Bearer " + Token + "x" },
        ["token: basic auth"] = Put(Online, 401, "M_MISSING_TOKEN") with { Authorization = "Basic dXNlcjpwYXNz" },
        ["token: another scheme"] = Put(Online, 401, "M_MISSING_TOKEN") with { Authorization = "Token " + Token },
        ["token: scheme alone"] = Put(Online, 401, "M_MISSING_TOKEN") with { Authorization = "Bearer" },
        ["token: in the query"] = new("PUT", "/v1/presence/{u}/status?access_token=" + Token, Online, 401, "M_MISSING_TOKEN") { Authorization = null },
        ["token: none on sync"] = new("GET", "/v1/sync/{u}", null, 401, "M_MISSING_TOKEN") { Authorization = null },

        // Methods.
        ["method: DELETE status"] = new("DELETE", "/v1/presence/{u}/status", null, 405, "M_UNRECOGNIZED"),
        ["method: POST status"] = Put(Online, 405, "M_UNRECOGNIZED") with { Method = "POST" },
        ["method: PATCH membership"] = new("PATCH", "/v1/rooms/{room}/members/{u}", """{"membership":"join"}""", 405, "M_UNRECOGNIZED"),
        ["method: GET federation incoming"] = new("GET", "/v1/federation/incoming", null, 405, "M_UNRECOGNIZED"),
        ["method: PUT sync"] = new("PUT", "/v1/sync/{u}", "{}", 405, "M_UNRECOGNIZED"),
        ["method: POST healthz"] = new("POST", "/healthz", "{}", 405, "M_UNRECOGNIZED"),

        // Routes.
        ["route: unknown"] = new("GET", "/v1/nope", null, 404, "M_NOT_FOUND"),
        ["route: another version"] = new("PUT", "/v2/presence/{u}/status", Online, 404, "M_NOT_FOUND"),
        ["route: no status segment"] = new("PUT", "/v1/presence/{u}", Online, 404, "M_NOT_FOUND"),
        ["route: empty user"] = new("PUT", "/v1/presence//status", Online, 404, "M_NOT_FOUND"),
        ["route: extra segment"] = new("PUT", "/v1/presence/{u}/status/now", Online, 404, "M_NOT_FOUND"),
        ["route: no member"] = new("PUT", "/v1/rooms/{room}/members", """{"membership":"join"}""", 404, "M_NOT_FOUND"),
    };

    public static TheoryData<string> Cases => [.. Catalogue.Keys];

    [Fact]
    public void TheCatalogue_HasAtLeast80Cases() => Assert.True(Catalogue.Count >= 80, $"{Catalogue.Count} cases");

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task BadInput_IsAClearError_ChangesNothing_AndUsesNoAllowance(string name)
    {
        Case bad = Catalogue[name];
        int n = Array.IndexOf([.. Catalogue.Keys], name);
        string user = $"@cat{n}:test";
        string peer = $"@peer{n}:test";
        string room = $"!cat{n}:test";

        // The peer is in the case's room; the user is in none, so the peer may not read the user's presence.
        Assert.Equal(200, (await SendAsync(new Case("PUT", $"/v1/rooms/{E(room)}/members/{E(peer)}", """{"membership":"join"}""", 200, string.Empty))).Status);
        string before = await SnapshotAsync(user, peer);

        (int status, JsonElement body) = await SendAsync(bad with
        {
            Path = bad.Path.Replace("{u}", E(user), StringComparison.Ordinal).Replace("{room}", E(room), StringComparison.Ordinal),
            Body = bad.Body?.Replace("{uid}", user, StringComparison.Ordinal),
        });

        Assert.InRange(status, 200, 499);
        Assert.Equal(bad.Status, status);
        JsonElement error = bad.ErrCodeAt == FederationItem ? body.GetProperty("errors")[0] : body;
        Assert.Equal(bad.ErrCode, error.GetProperty("errcode").GetString());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("error").GetString()));

        Assert.Equal(before, await SnapshotAsync(user, peer));
        (int changed, JsonElement limited) = await SendAsync(Put(Online, 200, string.Empty) with { Path = $"/v1/presence/{E(user)}/status" });
        Assert.True(changed == 200, $"a valid change right after: {changed} {limited}");
    }

    private static string E(string segment) => Uri.EscapeDataString(segment);

    /// <summary>The user's presence as the user reads it, and whether the peer (in a room the user has not joined) may read it.</summary>
    private async Task<string> SnapshotAsync(string user, string peer)
    {
        (int selfStatus, JsonElement self) = await SendAsync(new Case("GET", $"/v1/presence/{E(user)}/status?requester={E(user)}", null, 200, string.Empty));
        (int peerStatus, _) = await SendAsync(new Case("GET", $"/v1/presence/{E(user)}/status?requester={E(peer)}", null, 403, string.Empty));
        // Everything but last_active_ago, which grows with time.
        IEnumerable<string> fields = self.EnumerateObject().Where(p => p.Name != "last_active_ago").Select(p => $"{p.Name}={p.Value}");
        return $"{selfStatus} {string.Join(", ", fields)}; peer {peerStatus}";
    }

    private async Task<(int Status, JsonElement Body)> SendAsync(Case request)
    {
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), request.Path);
        byte[]? bytes = request.RawBody ?? (request.Body is null ? null : Encoding.UTF8.GetBytes(request.Body));
        if (bytes is not null)
        {
            message.Content = new ByteArrayContent(bytes);
            message.Content.Headers.ContentType = request.ContentType is null ? null : MediaTypeHeaderValue.Parse(request.ContentType);

            // As HTTP clients do for large bodies: the silo can refuse (413) before the body is sent.
            message.Headers.ExpectContinue = bytes.Length > 64 * 1024;
        }

        if (request.Authorization is not null)
        {
            message.Headers.TryAddWithoutValidation("Authorization", request.Authorization);
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using HttpResponseMessage response = await silo.Running.Http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        string text = await response.Content.ReadAsStringAsync(timeout.Token);
        JsonElement body;
        try
        {
            body = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new Xunit.Sdk.XunitException($"{request.Method} {request.Path}: {(int)response.StatusCode} with a body that is not JSON: {text}");
        }

        return ((int)response.StatusCode, body);
    }

    /// <summary>One silo for the whole catalogue: frontend tokens on, the default rate limit (a change per 10 s, burst 1).</summary>
    public sealed class CatalogueSilo : IAsyncLifetime
    {
        internal RunningSilo Running { get; private set; } = null!;

        public async Task InitializeAsync() => Running = await RunningSilo.StartAsync($"""
            server_name: test
            frontend_tokens: ["{Token}"]
            rc_presence:
              per_second: 0.1
              burst_count: 1
            """);

        public async Task DisposeAsync() => await Running.DisposeAsync();
    }
}
