using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace PresenceGrid.Silo.Tests;

/// <summary>
/// Text that is not UTF-8 (or a <c>\u</c> escape of an unpaired surrogate) inside a JSON string is <c>400 M_NOT_JSON</c>
/// on every endpoint that reads a JSON body, names where it is, and changes nothing (issue 18, item 1: it was a 500).
/// </summary>
public sealed class JsonEncodingTests(SiloPerClassFixture fixture) : IClassFixture<SiloPerClassFixture>
{
    private static int s_user;

    /// <summary>A JSON endpoint: its path and a body whose <c>&lt;X&gt;</c> is inside a string; with <c>&lt;X&gt;</c> empty the body is accepted.</summary>
    public sealed record Endpoint(string Name, HttpMethod Method, string Path, string Body, string Field, bool Remote = false)
    {
        public override string ToString() => Name;
    }

    public static readonly Endpoint[] Endpoints =
    [
        new("status", HttpMethod.Put, "/v1/presence/{user}/status", """{"presence":"online","status_msg":"<X>"}""", "body.status_msg"),
        new("device sync", HttpMethod.Post, "/v1/presence/{user}/devices/D/sync", """{"state":"start","set_presence":"<X>online"}""", "body.set_presence"),
        new("members", HttpMethod.Put, "/v1/rooms/!r:test/members/{user}", """{"membership":"<X>join"}""", "body.membership"),
        new("federation incoming", HttpMethod.Post, "/v1/federation/incoming",
            """{"origin":"remote.example","edu_type":"m.presence","content":{"push":[{"user_id":"{user}","presence":"online","status_msg":"<X>"}]}}""",
            "body.content.push[0].status_msg", Remote: true),
        new("send_local_online_presence_to", HttpMethod.Post, "/v1/modules/send_local_online_presence_to", """{"users":["<X>{user}"]}""", "body.users[0]"),
        new("set_presence_for_users", HttpMethod.Post, "/v1/modules/set_presence_for_users", """{"users":{"{user}":{"presence":"online","status_msg":"<X>"}}}""", "body.users.{user}.status_msg"),
    ];

    /// <summary>Byte sequences that are not text: a byte never in UTF-8, a cut-off sequence, an encoded surrogate, an overlong form, an unpaired surrogate escape.</summary>
    public static readonly (string Name, byte[] Bytes)[] BadText =
    [
        ("0xFF", [0xFF]),
        ("cut-off 2-byte sequence", [0xC3]),
        ("UTF-8 of a surrogate", [0xED, 0xA0, 0x80]),
        ("overlong '/'", [0xC0, 0xAF]),
        ("\\ud800 escape", "\\ud800"u8.ToArray()),
        ("\\udc00\\ud800 escapes", "\\udc00\\ud800"u8.ToArray()),
    ];

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (Endpoint endpoint in Endpoints)
        {
            foreach ((string name, _) in BadText)
            {
                data.Add(endpoint.Name, name);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Undecodable_text_in_a_string_is_400_M_NOT_JSON_naming_the_field_and_changes_nothing(string endpointName, string badTextName)
    {
        (Endpoint endpoint, byte[] bad, string user) = Case(endpointName, badTextName);

        await AssertNotJsonAsync(await SendAsync(endpoint, user, bad), endpoint.Field.Replace("{user}", user, StringComparison.Ordinal) + ":", user);

        // The same body with valid text is accepted: the 400 was for the encoding alone.
        Assert.Equal(200, (await SendAsync(endpoint, user, [])).Status);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Undecodable_text_in_a_field_name_is_400_M_NOT_JSON(string endpointName, string badTextName)
    {
        (Endpoint endpoint, byte[] bad, string user) = Case(endpointName, badTextName);

        await AssertNotJsonAsync(await SendRawAsync(endpoint, user, [.. "{\"a\":{\""u8, .. bad, .. "\":1}}"u8]), "body.a (a field name):", user);
    }

    private static (Endpoint Endpoint, byte[] Bad, string User) Case(string endpointName, string badTextName)
    {
        Endpoint endpoint = Endpoints.Single(e => e.Name == endpointName);
        return (endpoint, BadText.Single(b => b.Name == badTextName).Bytes, NewUser(endpoint.Remote));
    }

    /// <summary>400 M_NOT_JSON, the message starting with where the bad text is, and the user's presence unchanged.</summary>
    private async Task AssertNotJsonAsync((int Status, JsonElement Body) response, string errorStart, string user)
    {
        Assert.Equal(400, response.Status);
        Assert.Equal("M_NOT_JSON", response.Body.GetProperty("errcode").GetString());
        Assert.StartsWith(errorStart, response.Body.GetProperty("error").GetString(), StringComparison.Ordinal);
        await AssertUnchangedAsync(user);
    }

    private static string NewUser(bool remote) => $"@enc{Interlocked.Increment(ref s_user)}:{(remote ? "remote.example" : "test")}";

    private Task<(int Status, JsonElement Body)> SendAsync(Endpoint endpoint, string user, byte[] text)
    {
        string[] parts = endpoint.Body.Replace("{user}", user, StringComparison.Ordinal).Split("<X>");
        return SendRawAsync(endpoint, user, [.. Encoding.UTF8.GetBytes(parts[0]), .. text, .. Encoding.UTF8.GetBytes(parts[1])]);
    }

    private async Task<(int Status, JsonElement Body)> SendRawAsync(Endpoint endpoint, string user, byte[] body)
    {
        using var request = new HttpRequestMessage(endpoint.Method, endpoint.Path.Replace("{user}", Uri.EscapeDataString(user), StringComparison.Ordinal))
        {
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using HttpResponseMessage response = await fixture.Silo.Http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    private async Task AssertUnchangedAsync(string user)
    {
        string escaped = Uri.EscapeDataString(user);
        (int status, JsonElement state) = await fixture.Silo.SendAsync(HttpMethod.Get, $"/v1/presence/{escaped}/status?requester={escaped}");
        Assert.Equal(200, status);
        Assert.Equal("offline", state.GetProperty("presence").GetString());
        Assert.False(state.TryGetProperty("status_msg", out _));
    }
}
