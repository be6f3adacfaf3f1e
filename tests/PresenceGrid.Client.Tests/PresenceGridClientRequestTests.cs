using System.Net;
using PresenceGrid.Client.Tests.Infrastructure;

namespace PresenceGrid.Client.Tests;

/// <summary>Paths, escaping, query strings, bodies and headers of every call.</summary>
public sealed class PresenceGridClientRequestTests
{
    private readonly FakeHttpHandler _handler = new(_ => FakeHttpHandler.Empty());

    private RecordedRequest Single() => Assert.Single(_handler.Requests);

    [Fact]
    public async Task SetPresenceAsync_EscapesUserIdAndSendsSnakeCaseBody()
    {
        using var client = TestClients.Create(_handler);

        await client.SetPresenceAsync("@alice:example.org", PresenceState.Online, "in a meeting", "DEV/1");

        var request = Single();
        Assert.Equal(HttpMethod.Put, request.Method);
        Assert.Equal("http://silo-a.test:8080/v1/presence/%40alice%3Aexample.org/status", request.Uri.AbsoluteUri);
        Assert.Equal("""{"presence":"online","status_msg":"in a meeting","device_id":"DEV/1"}""", request.Body);
        Assert.Equal("application/json; charset=utf-8", request.ContentType);
        Assert.Equal("application/json", request.Accept);
    }

    [Fact]
    public async Task SetPresenceAsync_OmitsNullFields_AndWritesBusyAsMsc3026()
    {
        using var client = TestClients.Create(_handler);

        await client.SetPresenceAsync("@a:hs", PresenceState.Busy);

        Assert.Equal("""{"presence":"org.matrix.msc3026.busy"}""", Single().Body);
    }

    [Fact]
    public async Task Requests_UseHttp2WithDowngrade_OnEveryRequest()
    {
        using var client = TestClients.Create(_handler);

        await client.SetPresenceAsync("@a:hs", PresenceState.Online);
        await client.MarkActiveAsync("@a:hs", "D");

        Assert.All(_handler.Requests, r =>
        {
            Assert.Equal(HttpVersion.Version20, r.Version);
            Assert.Equal(HttpVersionPolicy.RequestVersionOrLower, r.VersionPolicy);
        });
    }

    [Fact]
    public async Task Requests_UseHttp11_WhenPreferHttp2IsOff()
    {
        using var client = TestClients.Create(_handler, o => o.PreferHttp2 = false);

        await client.MarkActiveAsync("@a:hs", "D");

        Assert.Equal(HttpVersion.Version11, Single().Version);
    }

    [Fact]
    public async Task Requests_SendBearerToken_WhenConfigured()
    {
        using var client = TestClients.Create(_handler, o => o.Token = "s3cret-token");

        await client.MarkActiveAsync("@a:hs", "D");

        var authorization = Single().Authorization;
        Assert.NotNull(authorization);
        Assert.Equal("Bearer", authorization.Scheme);
        Assert.Equal("s3cret-token", authorization.Parameter);
    }

    [Fact]
    public async Task Requests_SendNoAuthorization_WithoutToken()
    {
        using var client = TestClients.Create(_handler);

        await client.MarkActiveAsync("@a:hs", "D");

        Assert.Null(Single().Authorization);
    }

    [Fact]
    public async Task Requests_KeepEndpointBasePath()
    {
        var handler = new FakeHttpHandler(_ => FakeHttpHandler.Json("""{"status":"ok"}"""));
        using var client = TestClients.Create(handler, o => o.Endpoints = [new Uri("https://gw.test/presence")]);

        await client.HealthAsync();

        Assert.Equal("https://gw.test/presence/healthz", Assert.Single(handler.Requests).Uri.AbsoluteUri);
    }

    [Fact]
    public async Task GetPresenceAsync_SendsRequesterQuery_AndParsesContent()
    {
        var handler = new FakeHttpHandler(_ => FakeHttpHandler.Json(
            """{"presence":"unavailable","last_active_ago":4200,"status_msg":"away","currently_active":false}"""));
        using var client = TestClients.Create(handler);

        var content = await client.GetPresenceAsync("@alice:example.org", "@bob:example.org");

        var request = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Get, request.Method);
        Assert.Equal("/v1/presence/%40alice%3Aexample.org/status?requester=%40bob%3Aexample.org", request.PathAndQuery);
        Assert.Null(request.Body);
        Assert.Equal(new PresenceContent(PresenceState.Unavailable, 4200, "away", false), content);
    }

    [Fact]
    public async Task GetPresenceAsync_KeepsUnknownPresenceValues()
    {
        var handler = new FakeHttpHandler(_ => FakeHttpHandler.Json("""{"presence":"org.example.dnd"}"""));
        using var client = TestClients.Create(handler);

        var content = await client.GetPresenceAsync("@a:hs");

        Assert.Equal("org.example.dnd", content.Presence.Value);
        Assert.Null(content.LastActiveAgo);
        Assert.Equal("/v1/presence/%40a%3Ahs/status", Assert.Single(handler.Requests).PathAndQuery);
    }

    [Fact]
    public async Task StartAndStopSyncingAsync_PostStateAndOptionalSetPresence()
    {
        using var client = TestClients.Create(_handler);

        await client.StartSyncingAsync("@a:hs", "PHONE 1", PresenceState.Unavailable);
        await client.StopSyncingAsync("@a:hs", "PHONE 1");

        var (start, stop) = (_handler.Requests[0], _handler.Requests[1]);
        Assert.Equal(HttpMethod.Post, start.Method);
        Assert.Equal("/v1/presence/%40a%3Ahs/devices/PHONE%201/sync", start.PathAndQuery);
        Assert.Equal("""{"state":"start","set_presence":"unavailable"}""", start.Body);
        Assert.Equal("/v1/presence/%40a%3Ahs/devices/PHONE%201/sync", stop.PathAndQuery);
        Assert.Equal("""{"state":"stop"}""", stop.Body);
    }

    [Fact]
    public async Task MarkActiveAsync_PostsWithoutBody_AndEscapesSlashInDeviceId()
    {
        using var client = TestClients.Create(_handler);

        await client.MarkActiveAsync("@a:hs", "a/b?c");

        var request = Single();
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("/v1/presence/%40a%3Ahs/devices/a%2Fb%3Fc/active", request.PathAndQuery);
        Assert.Null(request.Body);
    }

    [Fact]
    public async Task KeepAliveAsync_PostsToTheDevicesKeepAlive_WithoutBody()
    {
        using var client = TestClients.Create(_handler);

        await client.KeepAliveAsync("@a:hs", "PHONE 1");

        var request = Single();
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("/v1/presence/%40a%3Ahs/devices/PHONE%201/keepalive", request.PathAndQuery);
        Assert.Null(request.Body);
    }

    [Fact]
    public async Task SyncAsync_SendsAllQueryParameters_AndParsesBatch()
    {
        var handler = new FakeHttpHandler(_ => FakeHttpHandler.Json("""
            {"events":[{"type":"m.presence","sender":"@b:hs","content":{"presence":"online","currently_active":true}}],"next_batch":"s42"}
            """));
        using var client = TestClients.Create(handler);

        var batch = await client.SyncAsync("@a:hs", since: "s 41&x", fullState: true, timeout: TimeSpan.FromSeconds(30), deviceId: "D1");

        Assert.Equal("/v1/sync/%40a%3Ahs?since=s%2041%26x&full_state=true&timeout=30000&device_id=D1", Assert.Single(handler.Requests).PathAndQuery);
        Assert.Equal("s42", batch.NextBatch);
        var e = Assert.Single(batch.Events);
        Assert.Equal(new PresenceEvent("m.presence", "@b:hs", new PresenceContent(PresenceState.Online, CurrentlyActive: true)), e);
    }

    [Fact]
    public async Task SyncAsync_OmitsUnsetQueryParameters_AndWritesFullStateFalse()
    {
        var handler = new FakeHttpHandler(_ => FakeHttpHandler.Json("""{"events":[],"next_batch":"t"}"""));
        using var client = TestClients.Create(handler);

        await client.SyncAsync("@a:hs");
        await client.SyncAsync("@a:hs", fullState: false);

        Assert.Equal("/v1/sync/%40a%3Ahs", handler.Requests[0].PathAndQuery);
        Assert.Equal("/v1/sync/%40a%3Ahs?full_state=false", handler.Requests[1].PathAndQuery);
    }

    [Fact]
    public async Task SetMembershipAsync_EscapesRoomAndUser()
    {
        using var client = TestClients.Create(_handler);

        await client.SetMembershipAsync("!room:example.org", "@a:hs", Membership.Knock);

        var request = Single();
        Assert.Equal(HttpMethod.Put, request.Method);
        Assert.Equal("/v1/rooms/%21room%3Aexample.org/members/%40a%3Ahs", request.PathAndQuery);
        Assert.Equal("""{"membership":"knock"}""", request.Body);
    }

    [Fact]
    public async Task SendFederationAsync_SendsEdu_AndReturnsNoErrorsForEmptyAnswer()
    {
        using var client = TestClients.Create(_handler);

        var errors = await client.SendFederationAsync("remote.example",
        [
            new FederationPresenceUpdate("@r:remote.example", PresenceState.Online, LastActiveAgo: 1200, CurrentlyActive: true),
        ]);

        Assert.Empty(errors);
        var request = Single();
        Assert.Equal("/v1/federation/incoming", request.PathAndQuery);
        Assert.Equal(
            """{"origin":"remote.example","edu_type":"m.presence","content":{"push":[{"user_id":"@r:remote.example","presence":"online","last_active_ago":1200,"currently_active":true}]}}""",
            request.Body);
    }

    [Fact]
    public async Task SendFederationAsync_ReturnsPerItemErrors()
    {
        var handler = new FakeHttpHandler(_ => FakeHttpHandler.Json(
            """{"errors":[{"index":1,"errcode":"M_INVALID_PARAM","error":"user_id is not on remote.example"}]}"""));
        using var client = TestClients.Create(handler);

        var errors = await client.SendFederationAsync("remote.example",
        [
            new FederationPresenceUpdate("@r:remote.example", PresenceState.Online),
            new FederationPresenceUpdate("@x:elsewhere", PresenceState.Offline),
        ]);

        Assert.Equal([new FederationItemError(1, "M_INVALID_PARAM", "user_id is not on remote.example")], errors);
    }

    [Fact]
    public async Task TakeOutgoingAsync_SendsLimit_AndParsesEdus()
    {
        var handler = new FakeHttpHandler(_ => FakeHttpHandler.Json("""
            {"edus":[{"edu_type":"m.presence","content":{"push":[{"user_id":"@a:hs","presence":"offline","last_active_ago":5}]}}]}
            """));
        using var client = TestClients.Create(handler);

        var edus = await client.TakeOutgoingAsync("remote.example:8448", limit: 10);

        var request = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("/v1/federation/outgoing/remote.example%3A8448/take?limit=10", request.PathAndQuery);
        var edu = Assert.Single(edus);
        Assert.Equal("m.presence", edu.EduType);
        Assert.Equal(new FederationPresenceUpdate("@a:hs", PresenceState.Offline, 5), Assert.Single(edu.Content.Push));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(101)]
    public async Task TakeOutgoingAsync_RejectsLimitOutsideOneToHundred_WithoutSending(int limit)
    {
        using var client = TestClients.Create(_handler);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.TakeOutgoingAsync("remote.example", limit));

        Assert.Empty(_handler.Requests);
    }

    [Fact]
    public async Task ModuleCalls_SendUserListsAndMaps()
    {
        using var client = TestClients.Create(_handler);

        await client.SendLocalOnlinePresenceToAsync(["@a:hs", "@b:hs"]);
        await client.SetPresenceForUsersAsync(new Dictionary<string, UserPresenceUpdate>
        {
            ["@u:hs"] = new(PresenceState.Busy, "meeting"),
            ["@v:hs"] = new(PresenceState.Offline),
        });

        Assert.Equal("/v1/modules/send_local_online_presence_to", _handler.Requests[0].PathAndQuery);
        Assert.Equal("""{"users":["@a:hs","@b:hs"]}""", _handler.Requests[0].Body);
        Assert.Equal("/v1/modules/set_presence_for_users", _handler.Requests[1].PathAndQuery);
        Assert.Equal(
            """{"users":{"@u:hs":{"presence":"org.matrix.msc3026.busy","status_msg":"meeting"},"@v:hs":{"presence":"offline"}}}""",
            _handler.Requests[1].Body);
    }

    [Fact]
    public async Task ExplainAsync_SendsFromAndTo_AndParsesReasons()
    {
        var handler = new FakeHttpHandler(_ => FakeHttpHandler.Json(
            """{"delivered":true,"reasons":[{"kind":"room","room_id":"!r:hs"},{"kind":"module","module":"everyone"},{"kind":"self"}]}"""));
        using var client = TestClients.Create(handler);

        var explanation = await client.ExplainAsync("@a:hs", "@b:hs");

        Assert.Equal("/v1/admin/explain?from=%40a%3Ahs&to=%40b%3Ahs", Assert.Single(handler.Requests).PathAndQuery);
        Assert.True(explanation.Delivered);
        Assert.Equal(
            [new ExplainReason(ExplainReasonKinds.Room, RoomId: "!r:hs"), new ExplainReason(ExplainReasonKinds.Module, Module: "everyone"), new ExplainReason(ExplainReasonKinds.Self)],
            explanation.Reasons);
    }

    [Fact]
    public async Task GetClusterAsync_ParsesSilos()
    {
        var handler = new FakeHttpHandler(_ => FakeHttpHandler.Json(
            """{"silos":[{"name":"silo-a","address":"10.0.0.1:11111","status":"active","activations":12}]}"""));
        using var client = TestClients.Create(handler);

        var cluster = await client.GetClusterAsync();

        Assert.Equal("/v1/admin/cluster", Assert.Single(handler.Requests).PathAndQuery);
        Assert.Equal(new SiloInfo("silo-a", "10.0.0.1:11111", "active", 12), Assert.Single(cluster.Silos));
    }

    [Fact]
    public async Task HealthAsync_ParsesStatus()
    {
        var handler = new FakeHttpHandler(_ => FakeHttpHandler.Json("""{"status":"ok"}"""));
        using var client = TestClients.Create(handler);

        var health = await client.HealthAsync();

        Assert.Equal("/healthz", Assert.Single(handler.Requests).PathAndQuery);
        Assert.True(health.IsHealthy);
    }

    [Fact]
    public async Task Answers_MissingRequiredFields_ThrowInvalidResponse()
    {
        var handler = new FakeHttpHandler(_ => FakeHttpHandler.Json("""{"events":[]}"""));
        using var client = TestClients.Create(handler);

        var ex = await Assert.ThrowsAsync<PresenceGridApiException>(() => client.SyncAsync("@a:hs"));

        Assert.Equal(PresenceGridErrorCodes.InvalidResponse, ex.ErrCode);
        Assert.Equal(HttpStatusCode.OK, ex.StatusCode);
    }

    [Fact]
    public async Task Calls_RejectEmptyIds_WithoutSending()
    {
        using var client = TestClients.Create(_handler);

        await Assert.ThrowsAsync<ArgumentException>(() => client.SetPresenceAsync("", PresenceState.Online));
        await Assert.ThrowsAsync<ArgumentNullException>(() => client.GetPresenceAsync(null!));

        Assert.Empty(_handler.Requests);
    }
}
