using PresenceGrid.Matrix;
using PresenceGrid.Presence;

namespace PresenceGrid.Grains.Tests;

/// <summary>
/// States mirrored from the homeserver that owns them (<c>PresenceService.MirrorStatesAsync</c>, behind
/// <c>POST /v1/ingest/states</c>): recorded as given, no grid timers, notified once, latest wins, never federated.
/// </summary>
public sealed class MirrorScenarioTests
{
    private const string U1 = "@user1:test";
    private const string U2 = "@user2:test";
    private const string Far = "@far:remote.org";

    private static UserPresenceState State(string user, PresenceState state, long lastActive, string? status = null, bool active = false, long lastFederation = 0, long lastSync = 0) =>
        new(UserId.Parse(user), state, lastActive, lastFederation, lastSync, status, active);

    [Fact]
    public async Task MirroredState_IsRecordedAsGiven_AndNoGridTimerChangesIt()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        long now = silo.NowMs;
        UserPresenceState online = State(U1, PresenceState.Online, now - 600_000, "from synapse", active: true, lastFederation: now - 5_000, lastSync: now - 40_000);
        UserPresenceState remote = State(Far, PresenceState.Busy, now - 1_000, "far away", lastFederation: now - 1_000);

        await silo.Presence.MirrorStatesAsync([online, remote]);
        await silo.AdvanceAsync(TimeSpan.FromDays(2));

        // Without the mirror's rule, the grid would have idled, synced out and federation-timed these users out.
        Assert.Equal(online, await silo.Grains.GetGrain<IUserPresenceGrain>(U1).GetPresence());
        Assert.Equal(remote, await silo.Grains.GetGrain<IUserPresenceGrain>(Far).GetPresence());
    }

    [Fact]
    public async Task MirroredState_ReachesRoomMates_Once_AndTheLatestOfABatchWins()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        await silo.Join("!room:test", U1, U2);
        var (_, token) = await silo.Sync(U2);
        long now = silo.NowMs;
        UserPresenceState first = State(U1, PresenceState.Online, now, "first", active: true);

        await silo.Presence.MirrorStatesAsync([first]);
        var (events, afterFirst) = await silo.Sync(U2, token);
        Assert.Equal(first, Assert.Single(events));

        // The same state again, and a change of the two timestamps readers do not see: recorded, nobody woken.
        UserPresenceState pinged = first with { LastFederationUpdateTs = now + 1, LastUserSyncTs = now + 2 };
        await silo.Presence.MirrorStatesAsync([first]);
        await silo.Presence.MirrorStatesAsync([pinged]);
        var (none, afterPing) = await silo.Sync(U2, afterFirst);
        Assert.Empty(none);
        Assert.Equal(pinged, await silo.Get(U1));

        UserPresenceState away = State(U1, PresenceState.Unavailable, now, "away");
        UserPresenceState back = State(U1, PresenceState.Online, now + 10, "back", active: true);
        await silo.Presence.MirrorStatesAsync([away, back]);
        var (latest, _) = await silo.Sync(U2, afterPing);
        Assert.Equal(back, Assert.Single(latest));
        Assert.Equal(back, await silo.Get(U1));
    }

    [Fact]
    public async Task MirroredState_IsNotFederated_WhereAGridChangeIs()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        await silo.Join("!fed:test", U1, U2, Far);
        await silo.Presence.DrainAsync();
        await silo.Presence.TakeOutgoingAsync("remote.org", 100);

        await silo.Presence.MirrorStatesAsync([State(U1, PresenceState.Online, silo.NowMs, "mirrored", active: true)]);
        await silo.Put(U2, PresenceState.Online, "grid");
        await silo.Presence.DrainAsync();

        var edus = await silo.Presence.TakeOutgoingAsync("remote.org", 100);
        var sent = edus.SelectMany(e => e.Push).ToList();
        Assert.Equal(U2, Assert.Single(sent).UserId.ToString());
    }

    [Fact]
    public async Task AGridChange_HandsAMirroredUserBackToTheStateMachine_AndTheFlagIsStored()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        var storage = StoredPresence.Storage(silo.Services);
        await silo.Presence.MirrorStatesAsync([State(U1, PresenceState.Online, silo.NowMs, "mirrored", active: true)]);
        var mirrored = new StoredPresence();
        await storage.ReadStateAsync("presence", GrainId.Create("user", U1), mirrored);
        Assert.True(mirrored.State.Mirrored);

        await silo.Put(U1, PresenceState.Online, "grid");
        var tracked = new StoredPresence();
        await storage.ReadStateAsync("presence", GrainId.Create("user", U1), tracked);
        Assert.False(tracked.State.Mirrored);

        // A PUT without a sync goes offline after 30 s (S33): the grid's timers run again.
        await silo.AdvanceAsync(TimeSpan.FromSeconds(31));
        Assert.Equal(PresenceState.Offline, (await silo.Get(U1)).State);
    }

    [Fact]
    public async Task MirroringTheStateAGridUserHas_NotifiesNobody_ButStoresTheFlag_AndStopsTheTimers()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        var storage = StoredPresence.Storage(silo.Services);
        await silo.Join("!room:test", U1, U2);
        await silo.Put(U1, PresenceState.Online, "grid");
        var (_, token) = await silo.Sync(U2);
        UserPresenceState same = await silo.Get(U1);

        await silo.Presence.MirrorStatesAsync([same]);
        var (none, _) = await silo.Sync(U2, token);
        await silo.AdvanceAsync(UserPresenceGrain.DirtyFlushDelay);
        await silo.Get(U1);   // queued behind the flush tick on the grain's turn

        Assert.Empty(none);
        var stored = new StoredPresence();
        await storage.ReadStateAsync("presence", GrainId.Create("user", U1), stored);
        Assert.True(stored.State.Mirrored);
        await silo.AdvanceAsync(TimeSpan.FromDays(1));
        Assert.Equal(same, await silo.Get(U1));
    }

    [Fact]
    public async Task AGridInputThatChangesNothing_LeavesAMirroredUserWithoutTimers()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        UserPresenceState online = State(U1, PresenceState.Online, silo.NowMs, "mirrored", active: true);
        await silo.Presence.MirrorStatesAsync([online]);

        // A keep-alive of a device that is not syncing changes nothing; it must not start the grid's timers.
        await silo.Presence.KeepAliveAsync(U1, "phone");
        await silo.AdvanceAsync(TimeSpan.FromDays(1));

        Assert.Equal(online, await silo.Get(U1));
    }

    [Fact]
    public async Task MirroredState_WithPresenceDisabled_IsIgnored()
    {
        await using var silo = await PresenceTestSilo.StartAsync(o => o.Mode = PresenceMode.Disabled);

        await silo.Presence.MirrorStatesAsync([State(U1, PresenceState.Online, silo.NowMs, "mirrored", active: true)]);

        Assert.Equal(PresenceState.Offline, (await silo.Grains.GetGrain<IUserPresenceGrain>(U1).GetPresence()).State);
    }

    [Fact]
    public async Task MirroredState_WithPresenceUntracked_IsRecorded()
    {
        await using var silo = await PresenceTestSilo.StartAsync(o => o.Mode = PresenceMode.Untracked);
        UserPresenceState online = State(U1, PresenceState.Online, silo.NowMs, "mirrored", active: true);

        await silo.Presence.MirrorStatesAsync([online]);
        await silo.AdvanceAsync(TimeSpan.FromDays(1));

        Assert.Equal(online, await silo.Get(U1));
    }
}
