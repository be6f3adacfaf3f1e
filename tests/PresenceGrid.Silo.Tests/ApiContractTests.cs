using System.Text.Json;

namespace PresenceGrid.Silo.Tests;

/// <summary>Contract tests of the HTTP/JSON API over real Kestrel on loopback: success, errors, and that a rejected request changed nothing.</summary>
public sealed class ApiContractTests : IAsyncLifetime
{
    private RunningSilo _silo = null!;

    public async Task InitializeAsync() => _silo = await RunningSilo.StartAsync();

    public async Task DisposeAsync() => await _silo.DisposeAsync();

    private static string U(string user) => Uri.EscapeDataString(user);

    private Task<(int Status, JsonElement Body)> Put(string path, string json) => _silo.SendAsync(HttpMethod.Put, path, json);

    private Task<(int Status, JsonElement Body)> Post(string path, string? json = null) => _silo.SendAsync(HttpMethod.Post, path, json);

    private Task<(int Status, JsonElement Body)> Get(string path) => _silo.SendAsync(HttpMethod.Get, path);

    private static void AssertError((int Status, JsonElement Body) response, int status, string errcode, string mentions)
    {
        Assert.Equal(status, response.Status);
        Assert.Equal(errcode, response.Body.GetProperty("errcode").GetString());
        Assert.Contains(mentions, response.Body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task PutStatus_ThenGet_AndSync_SeeIt()
    {
        Assert.Equal(200, (await Put($"/v1/presence/{U("@alice:test")}/status", """{"presence":"online","status_msg":"hi"}""")).Status);

        var get = await Get($"/v1/presence/{U("@alice:test")}/status?requester={U("@alice:test")}");
        Assert.Equal(200, get.Status);
        Assert.Equal("online", get.Body.GetProperty("presence").GetString());
        Assert.Equal("hi", get.Body.GetProperty("status_msg").GetString());
        Assert.True(get.Body.GetProperty("currently_active").GetBoolean());

        var sync = await Get($"/v1/sync/{U("@alice:test")}");
        var ev = sync.Body.GetProperty("events")[0];
        Assert.Equal("m.presence", ev.GetProperty("type").GetString());
        Assert.Equal("@alice:test", ev.GetProperty("sender").GetString());
        Assert.False(string.IsNullOrEmpty(sync.Body.GetProperty("next_batch").GetString()));
    }

    [Fact]
    public async Task PutStatus_BadInput_GetsTheRightError_AndChangesNothing()
    {
        string path = $"/v1/presence/{U("@bob:test")}/status";
        await Put(path, """{"presence":"online","status_msg":"kept"}""");

        AssertError(await Put(path, """{"presence":"away"}"""), 400, "M_INVALID_PARAM", "presence");
        AssertError(await Put(path, """{"presence":"online","status_msg":5}"""), 400, "M_BAD_JSON", "status_msg");
        AssertError(await Put(path, """{"presence":"online","colour":"red"}"""), 400, "M_BAD_JSON", "colour");
        AssertError(await Put(path, """{"status_msg":"x"}"""), 400, "M_BAD_JSON", "presence");
        AssertError(await Put(path, "not json"), 400, "M_NOT_JSON", "body");
        AssertError(await Put(path, $$"""{"presence":"online","status_msg":"{{new string('x', 3000)}}"}"""), 400, "M_INVALID_PARAM", "status_msg");
        AssertError(await Put($"/v1/presence/{U("bob")}/status", """{"presence":"online"}"""), 400, "M_INVALID_PARAM", "user_id");
        AssertError(await Put($"/v1/presence/{U("@bob:elsewhere")}/status", """{"presence":"online"}"""), 400, "M_INVALID_PARAM", "user_id");
        AssertError(await Put(path, """{"presence":"org.matrix.msc3026.busy"}"""), 400, "M_INVALID_PARAM", "presence");
        AssertError(await Put(path, $$"""{"presence":"online","status_msg":"{{new string('x', 1_100_000)}}"}"""), 413, "M_TOO_LARGE", "body");

        var get = await Get($"{path}?requester={U("@bob:test")}");
        Assert.Equal("online", get.Body.GetProperty("presence").GetString());
        Assert.Equal("kept", get.Body.GetProperty("status_msg").GetString());
    }

    [Fact]
    public async Task GetStatus_OfAStranger_IsForbidden_AndWithoutRequesterIsBadParam()
    {
        AssertError(await Get($"/v1/presence/{U("@carol:test")}/status?requester={U("@dave:test")}"), 403, "M_FORBIDDEN", "not allowed");
        AssertError(await Get($"/v1/presence/{U("@carol:test")}/status"), 400, "M_INVALID_PARAM", "requester");
    }

    [Fact]
    public async Task Rooms_DeviceSync_Active_IncrementalSync_AndVisibility()
    {
        Assert.Equal(200, (await Put($"/v1/rooms/{U("!room:test")}/members/{U("@erin:test")}", """{"membership":"join"}""")).Status);
        Assert.Equal(200, (await Put($"/v1/rooms/{U("!room:test")}/members/{U("@frank:test")}", """{"membership":"join"}""")).Status);
        var initial = await Get($"/v1/sync/{U("@frank:test")}");
        string token = initial.Body.GetProperty("next_batch").GetString()!;

        Assert.Equal(200, (await Post($"/v1/presence/{U("@erin:test")}/devices/phone/sync", """{"state":"start","set_presence":"unavailable"}""")).Status);
        Assert.Equal(200, (await Post($"/v1/presence/{U("@erin:test")}/devices/phone/active")).Status);
        var incremental = await Get($"/v1/sync/{U("@frank:test")}?since={U(token)}&timeout=5000");

        JsonElement events = incremental.Body.GetProperty("events");
        Assert.Equal("@erin:test", events[events.GetArrayLength() - 1].GetProperty("sender").GetString());
        Assert.Equal("online", events[events.GetArrayLength() - 1].GetProperty("content").GetProperty("presence").GetString());
        Assert.Equal(200, (await Get($"/v1/presence/{U("@erin:test")}/status?requester={U("@frank:test")}")).Status);

        AssertError(await Put($"/v1/rooms/{U("!room:test")}/members/{U("@erin:test")}", """{"membership":"joined"}"""), 400, "M_INVALID_PARAM", "membership");
        AssertError(await Post($"/v1/presence/{U("@erin:test")}/devices/phone/sync", """{"state":"pause"}"""), 400, "M_INVALID_PARAM", "state");
        AssertError(await Get($"/v1/sync/{U("@frank:test")}?since=nonsense"), 400, "M_INVALID_PARAM", "since");
        AssertError(await Get($"/v1/sync/{U("@frank:test")}?timeout=soon"), 400, "M_INVALID_PARAM", "timeout");
    }

    [Fact]
    public async Task DeviceKeepAlive_RenewsASyncingDevice_AndRejectsABadUser()
    {
        string device = $"/v1/presence/{U("@kim:test")}/devices/{U("phone 1")}";
        Assert.Equal(200, (await Post($"{device}/sync", """{"state":"start"}""")).Status);

        var renewed = await Post($"{device}/keepalive");

        Assert.Equal(200, renewed.Status);
        Assert.Equal("{}", renewed.Body.GetRawText());
        Assert.Equal(200, (await Post($"/v1/presence/{U("@never:test")}/devices/tablet/keepalive")).Status);
        Assert.Equal("online", (await Get($"/v1/presence/{U("@kim:test")}/status?requester={U("@kim:test")}")).Body.GetProperty("presence").GetString());
        AssertError(await Post($"/v1/presence/{U("kim")}/devices/phone/keepalive"), 400, "M_INVALID_PARAM", "user_id");
        AssertError(await Post($"/v1/presence/{U("@kim:elsewhere")}/devices/phone/keepalive"), 400, "M_INVALID_PARAM", "user_id");
    }

    [Fact]
    public async Task Federation_IncomingItemsCheckedOneByOne_AndOutgoingTakenAsEdus()
    {
        await Put($"/v1/rooms/{U("!fed:test")}/members/{U("@gina:test")}", """{"membership":"join"}""");
        await Put($"/v1/rooms/{U("!fed:test")}/members/{U("@far:island")}", """{"membership":"join"}""");
        await Post($"/v1/federation/outgoing/island/take?limit=10");

        var incoming = await Post("/v1/federation/incoming", """
            {"origin":"island","edu_type":"m.presence","content":{"push":[
              {"user_id":"@far:island","presence":"online","last_active_ago":5},
              {"user_id":"@spoof:other","presence":"online"}]}}
            """);
        Assert.Equal(200, incoming.Status);
        var error = Assert.Single(incoming.Body.GetProperty("errors").EnumerateArray());
        Assert.Equal(1, error.GetProperty("index").GetInt32());
        Assert.Equal("M_FORBIDDEN", error.GetProperty("errcode").GetString());
        Assert.Equal("online", (await Get($"/v1/presence/{U("@far:island")}/status?requester={U("@gina:test")}")).Body.GetProperty("presence").GetString());

        await Put($"/v1/presence/{U("@gina:test")}/status", """{"presence":"online"}""");
        var take = await TakeUntilAsync("island");
        var push = take.GetProperty("edus")[0].GetProperty("content").GetProperty("push")[0];
        Assert.Equal("@gina:test", push.GetProperty("user_id").GetString());
        Assert.Equal("m.presence", take.GetProperty("edus")[0].GetProperty("edu_type").GetString());

        AssertError(await Post("/v1/federation/incoming", """{"origin":"island","edu_type":"m.typing","content":{}}"""), 400, "M_INVALID_PARAM", "edu_type");
        AssertError(await Post("/v1/federation/outgoing/island/take?limit=0"), 400, "M_INVALID_PARAM", "limit");
    }

    private async Task<JsonElement> TakeUntilAsync(string destination)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var take = await Post($"/v1/federation/outgoing/{destination}/take?limit=10");
            if (take.Body.GetProperty("edus").GetArrayLength() > 0 || DateTime.UtcNow > deadline)
            {
                return take.Body;
            }

            await Task.Delay(5);
        }
    }

    [Fact]
    public async Task Modules_SendLocalOnlinePresenceTo_AndSetPresenceForUsers()
    {
        Assert.Equal(200, (await Post("/v1/modules/set_presence_for_users", """{"users":{"@hank:test":{"presence":"unavailable","status_msg":"module"}}}""")).Status);
        var get = await Get($"/v1/presence/{U("@hank:test")}/status?requester={U("@hank:test")}");
        Assert.Equal("unavailable", get.Body.GetProperty("presence").GetString());
        Assert.Equal("module", get.Body.GetProperty("status_msg").GetString());

        Assert.Equal(200, (await Post("/v1/modules/send_local_online_presence_to", """{"users":["@hank:test"]}""")).Status);
        AssertError(await Post("/v1/modules/send_local_online_presence_to", """{"users":"@hank:test"}"""), 400, "M_BAD_JSON", "users");
        AssertError(await Post("/v1/modules/set_presence_for_users", """{"users":{"@hank:test":{"presence":"sleepy"}}}"""), 400, "M_INVALID_PARAM", "users.@hank:test.presence");
    }

    [Fact]
    public async Task Admin_Explain_Cluster_Health_Metrics_AndUnknownPath()
    {
        await Put($"/v1/rooms/{U("!ex:test")}/members/{U("@ida:test")}", """{"membership":"join"}""");
        await Put($"/v1/rooms/{U("!ex:test")}/members/{U("@jo:test")}", """{"membership":"join"}""");

        var explain = await Get($"/v1/admin/explain?from={U("@ida:test")}&to={U("@jo:test")}");
        Assert.True(explain.Body.GetProperty("delivered").GetBoolean());
        Assert.Equal("room", explain.Body.GetProperty("reasons")[0].GetProperty("kind").GetString());
        Assert.Equal("!ex:test", explain.Body.GetProperty("reasons")[0].GetProperty("room_id").GetString());
        var stranger = await Get($"/v1/admin/explain?from={U("@ida:test")}&to={U("@nobody:test")}");
        Assert.False(stranger.Body.GetProperty("delivered").GetBoolean());
        AssertError(await Get("/v1/admin/explain?from=x&to=y"), 400, "M_INVALID_PARAM", "from");

        var cluster = await Get("/v1/admin/cluster");
        JsonElement self = cluster.Body.GetProperty("silos")[0];
        Assert.Equal("active", self.GetProperty("status").GetString());
        Assert.Equal($"{self.GetProperty("silo_endpoint").GetString()}@{self.GetProperty("generation").GetInt64()}", self.GetProperty("address").GetString());
        var placement = await Get("/v1/cluster/placement");
        Assert.Equal(OwnerPlacementTests.UserGrainType, placement.Body.GetProperty("user_grain_type").GetString());
        JsonElement placed = Assert.Single(placement.Body.GetProperty("silos").EnumerateArray());
        Assert.Equal(self.GetProperty("address").GetString(), placed.GetProperty("address").GetString());
        Assert.False(placed.TryGetProperty("http_endpoint", out _), "a silo without a cluster advertises no http_endpoint");
        Assert.Equal("ok", (await Get("/healthz")).Body.GetProperty("status").GetString());
        string metrics = await _silo.Http.GetStringAsync("/metrics");
        Assert.Contains("orleans_catalog_activations", metrics);
        AssertError(await Get("/v1/nothing-here"), 404, "M_NOT_FOUND", "/v1/nothing-here");
    }

    [Fact]
    public async Task Watch_StreamsBatchesAsNdjson_AndResumesFromAToken()
    {
        await Put($"/v1/rooms/{U("!w:test")}/members/{U("@kim:test")}", """{"membership":"join"}""");
        await Put($"/v1/rooms/{U("!w:test")}/members/{U("@lee:test")}", """{"membership":"join"}""");
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/watch/{U("@lee:test")}");
        using var response = await _silo.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType!.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        string first = (await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)))!;
        await Put($"/v1/presence/{U("@kim:test")}/status", """{"presence":"online","status_msg":"live"}""");
        string second = (await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)))!;

        using var batch = JsonDocument.Parse(second);
        var ev = batch.RootElement.GetProperty("events")[0];
        Assert.Equal("@kim:test", ev.GetProperty("sender").GetString());
        Assert.Equal("live", ev.GetProperty("content").GetProperty("status_msg").GetString());
        Assert.NotEqual(JsonDocument.Parse(first).RootElement.GetProperty("next_batch").GetString(), batch.RootElement.GetProperty("next_batch").GetString());
    }
}
