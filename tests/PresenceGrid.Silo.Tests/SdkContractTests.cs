using System.Net;
using Microsoft.Extensions.DependencyInjection;
using PresenceGrid.Client;
using PresenceGrid.Fanout;
using PresenceGrid.Sync;
using PresenceGrid.Testing;

namespace PresenceGrid.Silo.Tests;

/// <summary>
/// The SDK's contract (<see cref="IPresenceGridClient"/>) against the real silo on loopback, run for each transport by
/// the classes below: every operation, its typed errors, watch, federation, explain, cluster and health.
/// </summary>
public abstract class SdkContractTests : IAsyncLifetime
{
    internal const string Config = """
        server_name: test
        frontend_tokens: ["t0k"]
        rc_presence:
          per_second: 0.1
          burst_count: 1
        """;

    private RunningSilo? _silo;

    internal RunningSilo Silo => _silo ?? throw new InvalidOperationException("The silo has not started.");

    protected IPresenceGridClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _silo = await RunningSilo.StartAsync(Config);
        Client = await ConnectAsync(_silo);
    }

    public async Task DisposeAsync()
    {
        await DisconnectAsync();
        if (_silo is not null)
        {
            await _silo.DisposeAsync();
        }
    }

    internal abstract Task<IPresenceGridClient> ConnectAsync(RunningSilo silo);

    protected abstract Task DisconnectAsync();

    [Fact]
    public async Task SetGetSync_Rooms_Explain_Cluster_Health()
    {
        await Client.SetMembershipAsync("!r:test", "@a:test", Membership.Join);
        await Client.SetMembershipAsync("!r:test", "@b:test", Membership.Join);
        SyncBatch initial = await Client.SyncAsync("@b:test");

        await Client.SetPresenceAsync("@a:test", PresenceState.Online, "via sdk", "phone");
        SyncBatch next = await Client.SyncAsync("@b:test", initial.NextBatch, timeout: TimeSpan.FromSeconds(5));
        PresenceContent seen = await Client.GetPresenceAsync("@a:test", "@b:test");
        PresenceExplanation why = await Client.ExplainAsync("@a:test", "@b:test");
        PresenceExplanation stranger = await Client.ExplainAsync("@a:test", "@z:test");
        SiloInfo silo = Assert.Single((await Client.GetClusterAsync()).Silos);

        PresenceEvent ev = Assert.Single(next.Events);
        Assert.Equal(("m.presence", "@a:test", "via sdk", true), (ev.Type, ev.Sender, ev.Content.StatusMsg, ev.Content.CurrentlyActive));
        Assert.Equal(PresenceState.Online, seen.Presence);
        Assert.True(why.Delivered);
        Assert.Equal(new ExplainReason(ExplainReasonKinds.Room, "!r:test"), Assert.Single(why.Reasons));
        Assert.Equal((false, 0), (stranger.Delivered, stranger.Reasons.Count));
        Assert.True((await Client.HealthAsync()).IsHealthy);
        Assert.Equal(("active", true), (silo.Status, silo.Self));
        Assert.Equal($"{silo.SiloEndpoint}@{silo.Generation}", silo.Address);
        Assert.True(silo.Activations > 0);
    }

    [Fact]
    public async Task Errors_AreTypedExceptions_CarryingTheErrcode_AndNamingTheField()
    {
        await Client.SetPresenceAsync("@c:test", PresenceState.Online);

        var limited = await Assert.ThrowsAsync<PresenceGridRateLimitedException>(() => Client.SetPresenceAsync("@c:test", PresenceState.Unavailable));
        var forbidden = await Assert.ThrowsAsync<PresenceGridForbiddenException>(() => Client.GetPresenceAsync("@c:test", "@stranger:test"));
        var invalid = await Assert.ThrowsAsync<PresenceGridApiException>(() => Client.SetPresenceAsync("@c2:test", new PresenceState("away")));
        var remote = await Assert.ThrowsAsync<PresenceGridApiException>(() => Client.SetPresenceAsync("@c:elsewhere", PresenceState.Online));
        var noRequester = await Assert.ThrowsAsync<PresenceGridApiException>(() => Client.GetPresenceAsync("@c:test"));
        var badRoom = await Assert.ThrowsAsync<PresenceGridApiException>(() => Client.SetMembershipAsync("no-room", "@c:test", Membership.Join));

        Assert.True(limited.RetryAfter > TimeSpan.Zero);
        Assert.Equal(("M_LIMIT_EXCEEDED", (HttpStatusCode?)HttpStatusCode.TooManyRequests, true), (limited.ErrCode, limited.StatusCode, limited.IsTransient));
        Assert.Equal(("M_FORBIDDEN", (HttpStatusCode?)HttpStatusCode.Forbidden), (forbidden.ErrCode, forbidden.StatusCode));
        AssertBadInput(invalid, "presence");
        AssertBadInput(remote, "user_id");
        AssertBadInput(noRequester, "requester");
        AssertBadInput(badRoom, "room_id");
        Assert.Equal(PresenceState.Online, (await Client.GetPresenceAsync("@c:test", "@c:test")).Presence);
    }

    [Fact]
    public async Task Devices_StartActiveKeepAliveStop_AndABadSetPresenceNamesTheField()
    {
        await Client.StartSyncingAsync("@d:test", "phone");
        await Client.MarkActiveAsync("@d:test", "phone");
        await Client.KeepAliveAsync("@d:test", "phone");
        PresenceContent syncing = await Client.GetPresenceAsync("@d:test", "@d:test");
        await Client.StopSyncingAsync("@d:test", "phone");

        var busy = await Assert.ThrowsAsync<PresenceGridApiException>(() => Client.StartSyncingAsync("@d:test", "tablet", PresenceState.Busy));

        Assert.Equal((PresenceState.Online, true), (syncing.Presence, syncing.CurrentlyActive));
        Assert.True(syncing.LastActiveAgo >= 0);
        AssertBadInput(busy, "set_presence");
    }

    [Fact]
    public async Task Watch_YieldsBatches_AndANewWatchFromTheTokenSeesOnlyLaterChanges()
    {
        await Client.SetMembershipAsync("!w:test", "@e:test", Membership.Join);
        await Client.SetMembershipAsync("!w:test", "@f:test", Membership.Join);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        string token;
        await using (IAsyncEnumerator<SyncBatch> watch = Client.WatchAsync("@f:test", cancellationToken: cts.Token).GetAsyncEnumerator(cts.Token))
        {
            Assert.True(await watch.MoveNextAsync());
            await Client.SetPresenceAsync("@e:test", PresenceState.Online, "first");
            Assert.True(await watch.MoveNextAsync());
            Assert.Equal("first", Assert.Single(watch.Current.Events).Content.StatusMsg);
            token = watch.Current.NextBatch;
        }

        await Client.SetMembershipAsync("!w:test", "@g:test", Membership.Join);
        await using IAsyncEnumerator<SyncBatch> resumed = Client.WatchAsync("@f:test", token, cts.Token).GetAsyncEnumerator(cts.Token);
        Assert.True(await resumed.MoveNextAsync());
        Assert.DoesNotContain(resumed.Current.Events, e => e.Content.StatusMsg == "first");
        Assert.Contains(resumed.Current.Events, e => e.Sender == "@g:test");
    }

    /// <summary>Cancelling a long-polling sync ends it in the caller and on the silo (its wait is taken back from the inbox).</summary>
    [Fact]
    public async Task Sync_LongPoll_EndsWhenCancelled_AlsoOnTheSilo()
    {
        SyncBatch initial = await Client.SyncAsync("@p:test");
        Inbox inbox = Silo.Services.GetRequiredService<PresenceSyncService>().InboxOf(Matrix.UserId.Parse("@p:test"));
        using var cts = new CancellationTokenSource();
        Task<SyncBatch> poll = Client.SyncAsync("@p:test", initial.NextBatch, timeout: TimeSpan.FromMinutes(2), cancellationToken: cts.Token);
        await Eventually.TrueAsync(() => inbox.WatcherCount == 1, "the poll waits on the silo");

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => poll.WaitAsync(TimeSpan.FromSeconds(10)));
        await Eventually.TrueAsync(() => inbox.WatcherCount == 0, "the cancelled poll no longer waits on the silo");
    }

    [Fact]
    public async Task WatchWithADevice_IsThatDevicesSync_WhileItIsOpen()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await using (IAsyncEnumerator<SyncBatch> watch = Client.WatchAsync("@h:test", null, "laptop", cts.Token).GetAsyncEnumerator(cts.Token))
        {
            Assert.True(await watch.MoveNextAsync());
            Assert.Equal(PresenceState.Online, (await Client.GetPresenceAsync("@h:test", "@h:test")).Presence);
        }
    }

    [Fact]
    public async Task Federation_IncomingAppliesGoodItems_RejectsBadOnes_AndOutgoingEdusAreTaken()
    {
        await Client.SetMembershipAsync("!fed:test", "@i:test", Membership.Join);
        await Client.SetMembershipAsync("!fed:test", "@r:remote.example", Membership.Join);

        IReadOnlyList<FederationItemError> errors = await Client.SendFederationAsync("remote.example",
        [
            new FederationPresenceUpdate("@r:remote.example", PresenceState.Online, LastActiveAgo: 1000, StatusMsg: "from afar", CurrentlyActive: true),
            new FederationPresenceUpdate("@x:other.example", PresenceState.Online),
        ]);
        await Eventually.TrueAsync(async () => (await Client.GetPresenceAsync("@r:remote.example", "@i:test")).StatusMsg == "from afar", "the remote presence is seen");
        await Client.SetPresenceAsync("@i:test", PresenceState.Unavailable, "home");
        var taken = new List<OutgoingEdu>();
        await Eventually.TrueAsync(
            async () =>
            {
                taken.AddRange(await Client.TakeOutgoingAsync("remote.example", 100));
                return taken.SelectMany(e => e.Content.Push).Any(p => p.UserId == "@i:test" && p.StatusMsg == "home");
            },
            "the local change is queued for remote.example");
        var badDestination = await Assert.ThrowsAsync<PresenceGridApiException>(() => Client.TakeOutgoingAsync("not a server!"));
        var badOrigin = await Assert.ThrowsAsync<PresenceGridApiException>(() => Client.SendFederationAsync("not a server!", []));

        FederationItemError error = Assert.Single(errors);
        Assert.Equal((1, "M_FORBIDDEN"), (error.Index, error.ErrCode));
        Assert.Contains("push[1].user_id", error.Error, StringComparison.Ordinal);
        FederationPresenceUpdate sent = taken.SelectMany(e => e.Content.Push).Last(p => p.UserId == "@i:test");
        Assert.Equal((PresenceState.Unavailable, (bool?)null), (sent.Presence, sent.CurrentlyActive));
        Assert.All(taken, e => Assert.Equal("m.presence", e.EduType));
        AssertBadInput(badDestination, "destination");
        AssertBadInput(badOrigin, "origin");
    }

    [Fact]
    public async Task Modules_SetPresenceForUsers_AndSendLocalOnlinePresenceTo()
    {
        await Client.SetPresenceForUsersAsync(new Dictionary<string, UserPresenceUpdate> { ["@m:test"] = new(PresenceState.Unavailable, "set by a module") });
        await Client.SendLocalOnlinePresenceToAsync(["@m:test"]);
        PresenceContent set = await Client.GetPresenceAsync("@m:test", "@m:test");

        var badPresence = await Assert.ThrowsAsync<PresenceGridApiException>(() =>
            Client.SetPresenceForUsersAsync(new Dictionary<string, UserPresenceUpdate> { ["@n:test"] = new(new PresenceState("away")) }));
        var badUser = await Assert.ThrowsAsync<PresenceGridApiException>(() => Client.SendLocalOnlinePresenceToAsync(["not-a-user"]));
        var badExplain = await Assert.ThrowsAsync<PresenceGridApiException>(() => Client.ExplainAsync("not-a-user", "@m:test"));

        Assert.Equal((PresenceState.Unavailable, "set by a module"), (set.Presence, set.StatusMsg));
        AssertBadInput(badPresence, "users.@n:test.presence");
        AssertBadInput(badUser, "users");
        AssertBadInput(badExplain, "from");
        Assert.Equal(PresenceState.Offline, (await Client.GetPresenceAsync("@n:test", "@n:test")).Presence);
    }

    /// <summary>400 <c>M_INVALID_PARAM</c> (or <c>M_BAD_JSON</c>), the message starting with the field.</summary>
    private static void AssertBadInput(PresenceGridApiException error, string field)
    {
        Assert.Equal((HttpStatusCode?)HttpStatusCode.BadRequest, error.StatusCode);
        Assert.Contains(error.ErrCode, new[] { "M_INVALID_PARAM", "M_BAD_JSON" });
        Assert.StartsWith(field, error.Error, StringComparison.Ordinal);
        Assert.False(error.IsTransient);
    }
}
