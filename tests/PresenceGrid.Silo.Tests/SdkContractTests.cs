using System.Net;
using System.Net.Sockets;
using PresenceGrid.Client;

namespace PresenceGrid.Silo.Tests;

/// <summary>The same contract through the .NET client SDK, against the real silo on loopback.</summary>
public sealed class SdkContractTests : IAsyncLifetime
{
    private RunningSilo _silo = null!;
    private PresenceGridClient _client = null!;

    public async Task InitializeAsync()
    {
        _silo = await RunningSilo.StartAsync("""
            server_name: test
            frontend_tokens: ["t0k"]
            rc_presence:
              per_second: 0.1
              burst_count: 1
            """);
        _client = new PresenceGridClient(new PresenceGridClientOptions { Endpoints = { _silo.Address }, Token = "t0k" });
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _silo.DisposeAsync();
    }

    [Fact]
    public async Task SetGetSync_Rooms_Explain_Cluster_Health()
    {
        await _client.SetMembershipAsync("!r:test", "@a:test", Membership.Join);
        await _client.SetMembershipAsync("!r:test", "@b:test", Membership.Join);
        SyncBatch initial = await _client.SyncAsync("@b:test");

        await _client.SetPresenceAsync("@a:test", PresenceState.Online, "via sdk", "phone");
        SyncBatch next = await _client.SyncAsync("@b:test", initial.NextBatch, timeout: TimeSpan.FromSeconds(5));
        PresenceContent seen = await _client.GetPresenceAsync("@a:test", "@b:test");
        PresenceExplanation why = await _client.ExplainAsync("@a:test", "@b:test");

        PresenceEvent ev = Assert.Single(next.Events);
        Assert.Equal(("@a:test", "via sdk"), (ev.Sender, ev.Content.StatusMsg));
        Assert.Equal(PresenceState.Online, seen.Presence);
        Assert.True(why.Delivered);
        Assert.Equal("ok", (await _client.HealthAsync()).Status);
        Assert.Equal("active", Assert.Single((await _client.GetClusterAsync()).Silos).Status);
    }

    [Fact]
    public async Task Errors_AreTypedExceptions_CarryingTheErrcode()
    {
        await _client.SetPresenceAsync("@c:test", PresenceState.Online);

        var limited = await Assert.ThrowsAsync<PresenceGridRateLimitedException>(() => _client.SetPresenceAsync("@c:test", PresenceState.Unavailable));
        var forbidden = await Assert.ThrowsAsync<PresenceGridForbiddenException>(() => _client.GetPresenceAsync("@c:test", "@stranger:test"));
        var invalid = await Assert.ThrowsAsync<PresenceGridApiException>(() => _client.SetPresenceAsync("@c:test", new PresenceState("away")));

        Assert.True(limited.RetryAfter > TimeSpan.Zero);
        Assert.Equal("M_FORBIDDEN", forbidden.ErrCode);
        Assert.Equal(("M_INVALID_PARAM", (int?)400), (invalid.ErrCode, (int?)invalid.StatusCode));
        Assert.Equal(PresenceState.Online, (await _client.GetPresenceAsync("@c:test", "@c:test")).Presence);
    }

    [Fact]
    public async Task WrongToken_Is401_WithErrcode()
    {
        using var client = new PresenceGridClient(new PresenceGridClientOptions { Endpoints = { _silo.Address }, Token = "nope" });

        var error = await Assert.ThrowsAsync<PresenceGridApiException>(() => client.SetPresenceAsync("@d:test", PresenceState.Online));

        Assert.Equal(("M_UNKNOWN_TOKEN", (int?)401), (error.ErrCode, (int?)error.StatusCode));
    }

    [Fact]
    public async Task Failover_FromADeadEndpoint_ToTheSilo()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int deadPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var client = new PresenceGridClient(new PresenceGridClientOptions
        {
            Endpoints = { new Uri($"http://127.0.0.1:{deadPort}"), _silo.Address },
            Token = "t0k",
        });

        Assert.Equal("ok", (await client.HealthAsync()).Status);
    }

    [Fact]
    public async Task Watch_YieldsBatches_AndANewWatchFromTheTokenSeesOnlyLaterChanges()
    {
        await _client.SetMembershipAsync("!w:test", "@e:test", Membership.Join);
        await _client.SetMembershipAsync("!w:test", "@f:test", Membership.Join);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        string token;
        await using (IAsyncEnumerator<SyncBatch> watch = _client.WatchAsync("@f:test", cancellationToken: cts.Token).GetAsyncEnumerator(cts.Token))
        {
            Assert.True(await watch.MoveNextAsync());
            await _client.SetPresenceAsync("@e:test", PresenceState.Online, "first");
            Assert.True(await watch.MoveNextAsync());
            Assert.Equal("first", Assert.Single(watch.Current.Events).Content.StatusMsg);
            token = watch.Current.NextBatch;
        }

        await _client.SetMembershipAsync("!w:test", "@g:test", Membership.Join);
        await using IAsyncEnumerator<SyncBatch> resumed = _client.WatchAsync("@f:test", token, cts.Token).GetAsyncEnumerator(cts.Token);
        Assert.True(await resumed.MoveNextAsync());
        Assert.DoesNotContain(resumed.Current.Events, e => e.Content.StatusMsg == "first");
        Assert.Contains(resumed.Current.Events, e => e.Sender == "@g:test");
    }
}
