using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;

namespace PresenceGrid.Silo.Tests;

/// <summary>
/// Fuzzing the JSON endpoints of an in-process silo with FsCheck (issue 18): random bytes, random JSON, and bodies shaped
/// like each endpoint's with random values, keys dropped or added, bytes flipped or cut. No input may get a 5xx, and
/// every refusal has the API's error shape. A fixed seed and count per endpoint keep the run short and repeatable.
/// </summary>
public sealed class FuzzTests(SiloPerClassFixture fixture) : IClassFixture<SiloPerClassFixture>
{
    private const int CasesPerEndpoint = 300;

    /// <summary>A request: the endpoint's method and path and the body's bytes.</summary>
    public sealed record Input(HttpMethod Method, string Path, byte[] Body)
    {
        public override string ToString() =>
            $"{Method} {Path} {string.Concat(Encoding.Latin1.GetString(Body).Select(c => c is >= ' ' and <= '~' ? c.ToString() : $"\\x{(int)c:x2}"))}";
    }

    public static TheoryData<string> Endpoints() =>
        ["status", "device sync", "members", "federation incoming", "send_local_online_presence_to", "set_presence_for_users", "ingest states", "router users_for_states"];

    [Theory]
    [MemberData(nameof(Endpoints))]
    public void No_body_gets_a_5xx(string endpoint)
    {
        Gen<Input> inputs = Paths(endpoint).Zip(Bodies(Shape(endpoint)), (route, body) => new Input(route.Method, route.Path, body));
        Config config = Config.QuickThrowOnFailure.WithMaxTest(CasesPerEndpoint).WithReplay(0x5EED_F022UL + (ulong)endpoint.Length, 0x9E37_79B9_7F4A_7C15UL);
        Prop.ForAll(inputs.ToArbitrary(), input => AssertNo5xxAsync(input)).Check(config);
    }

    private async Task AssertNo5xxAsync(Input input)
    {
        using var request = new HttpRequestMessage(input.Method, input.Path) { Content = new ByteArrayContent(input.Body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using HttpResponseMessage response = await fixture.Silo.Http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        int status = (int)response.StatusCode;
        Assert.True(status < 500, $"{status} {text}");
        if (status >= 400)
        {
            using JsonDocument error = JsonDocument.Parse(text);
            Assert.Equal(JsonValueKind.String, error.RootElement.GetProperty("errcode").ValueKind);
            Assert.Equal(JsonValueKind.String, error.RootElement.GetProperty("error").ValueKind);
        }
    }

    // ---- Paths: the endpoint's, with a user id that is valid, of another server, or not an id at all. ----

    private static Gen<(HttpMethod Method, string Path)> Paths(string endpoint)
    {
        Gen<string> user = Gen.Elements("@fz:test", "@Fz.9_=/+-:test", "@fz:remote.example", "@:test", "fz", "@fz:test:99999").Select(Uri.EscapeDataString);
        return endpoint switch
        {
            "status" => user.Select(u => (HttpMethod.Put, $"/v1/presence/{u}/status")),
            "device sync" => user.Zip(Gen.Elements("D", "%F0%9F%98%80", "a%2Fb"), (u, d) => (HttpMethod.Post, $"/v1/presence/{u}/devices/{d}/sync")),
            "members" => user.Zip(Gen.Elements("!r:test", "!r:remote.example", "r", "!:test").Select(Uri.EscapeDataString), (u, r) => (HttpMethod.Put, $"/v1/rooms/{r}/members/{u}")),
            "federation incoming" => Gen.Constant((HttpMethod.Post, "/v1/federation/incoming")),
            "send_local_online_presence_to" => Gen.Constant((HttpMethod.Post, "/v1/modules/send_local_online_presence_to")),
            "ingest states" => Gen.Constant((HttpMethod.Post, "/v1/ingest/states")),
            "router users_for_states" => Gen.Constant((HttpMethod.Post, "/v1/router/users_for_states")),
            _ => Gen.Constant((HttpMethod.Post, "/v1/modules/set_presence_for_users")),
        };
    }

    // ---- Bodies ----

    private static Gen<byte[]> Bodies(Gen<string> shaped)
    {
        Gen<byte[]> randomBytes = Gen.Choose(0, 255).Select(b => (byte)b).ArrayOf();
        Gen<byte[]> shapedBytes = shaped.Select(Encoding.UTF8.GetBytes);
        return Gen.Frequency(
            (2, randomBytes),
            (2, AnyJson.Select(Encoding.UTF8.GetBytes)),
            (6, shapedBytes),
            (3, shapedBytes.SelectMany(Mutate)));
    }

    /// <summary>Flips, inserts, or cuts a byte.</summary>
    private static Gen<byte[]> Mutate(byte[] body) =>
        body.Length == 0 ? Gen.Constant(body) :
        Gen.Choose(0, body.Length - 1).Zip(Gen.Choose(0, 255), (at, value) => (at, value)).SelectMany(change => Gen.Elements<byte[]>(
            body.Select((b, i) => i == change.at ? (byte)change.value : b).ToArray(),
            [.. body[..change.at], (byte)change.value, .. body[change.at..]],
            body[..change.at]));

    /// <summary>The body each endpoint expects, each value likely good, sometimes anything.</summary>
    private static Gen<string> Shape(string endpoint) => endpoint switch
    {
        "status" => Obj(("presence", Val(Presences)), ("status_msg", Val("hi", "", LongText)), ("device_id", Val("D", ""))),
        "device sync" => Obj(("state", Val("start", "stop")), ("set_presence", Val(Presences))),
        "members" => Obj(("membership", Val("join", "leave", "invite", "ban", "knock"))),
        "federation incoming" => Obj(
            ("origin", Val("remote.example", "test", "")),
            ("edu_type", Val("m.presence")),
            ("content", Obj(("push", Arr(Obj(
                ("user_id", Val("@fz:remote.example", "@fz:test", "@x:other", "fz")),
                ("presence", Val(Presences)),
                ("last_active_ago", Num),
                ("currently_active", Gen.Elements("true", "false")),
                ("status_msg", Val("hi", LongText)))))))),
        "send_local_online_presence_to" => Obj(("users", Arr(Val("@fz:test", "@fz:remote.example", "@:x")))),
        "ingest states" or "router users_for_states" => Obj(("states", Arr(Obj(
            ("user_id", Val("@fz:test", "@fz:remote.example", "fz")),
            ("state", Val(Presences)),
            ("last_active_ts", Num),
            ("last_federation_update_ts", Num),
            ("last_user_sync_ts", Num),
            ("status_msg", Val("hi", "", LongText)),
            ("currently_active", Gen.Elements("true", "false", "null")))))),
        _ => Gen.Elements("@fz:test", "@fz:remote.example", "bad").SelectMany(user =>
            Obj(("users", Obj((user, Obj(("presence", Val(Presences)), ("status_msg", Val("hi", LongText)))))))),
    };

    private static readonly string LongText = new('x', 3000);

    private static readonly string[] Presences = ["online", "unavailable", "offline", "org.matrix.msc3026.busy", "away"];

    private static readonly Gen<string> Num = Gen.Elements("0", "-1", "5", "1.5", "1e400", "-1e400", "9223372036854775808", "-9223372036854775809", "1E2", "-0");

    private static readonly Gen<string> Text = Gen.Elements(
        "", "x", "online", "@fz:test", "!r:test", "é", "\\u0000", "\\ud800", "\\udc00\\ud800", "\\n", "\u2028", "\\\"", "%00", new string('a', 300), "@" + new string('a', 260) + ":test");

    private static Gen<string> Val(params string[] good) => Gen.Frequency(
        (4, Gen.Elements(good).Select(Quote)),
        (1, AnyJson));

    private static string Quote(string text) => JsonSerializer.Serialize(text);

    private static Gen<string> Arr(Gen<string> item) => Gen.Choose(0, 4).SelectMany(n => item.ArrayOf(n)).Select(items => $"[{string.Join(',', items)}]");

    /// <summary>An object with the given fields, each usually present, sometimes with an extra key, sometimes not an object at all.</summary>
    private static Gen<string> Obj(params (string Key, Gen<string> Value)[] fields)
    {
        Gen<string> members = Gen.CollectToArray(fields
            .Select(field => Gen.Frequency((6, field.Value.Select(v => $"{Quote(field.Key)}:{v}")), (1, Gen.Constant(string.Empty))))
            .Append(Gen.Frequency((8, Gen.Constant(string.Empty)), (1, Text.Zip(AnyJson, (k, v) => $"\"{k}\":{v}")))))
            .Select(parts => "{" + string.Join(',', parts.Where(p => p.Length > 0)) + "}");
        return Gen.Frequency((12, members), (1, AnyJson));
    }

    private static readonly Gen<string> Scalar = Gen.Frequency(
        (3, Text.Select(t => $"\"{t}\"")),
        (2, Num),
        (1, Gen.Elements("true", "false", "null")));

    private static readonly Gen<string> AnyJson = Gen.Sized(size => Json(Math.Min(size, 12)));

    private static Gen<string> Json(int size) => size <= 1
        ? Scalar
        : Gen.Frequency(
            (3, Scalar),
            (1, Gen.Choose(0, 3).SelectMany(n => Json(size / 2).ArrayOf(n)).Select(items => $"[{string.Join(',', items)}]")),
            (1, Gen.Choose(0, 3).SelectMany(n => Text.Zip(Json(size / 2), (k, v) => $"\"{k}\":{v}").ArrayOf(n)).Select(items => "{" + string.Join(',', items) + "}")));
}
