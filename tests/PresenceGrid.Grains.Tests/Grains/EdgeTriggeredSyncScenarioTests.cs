using PresenceGrid.Federation;
using PresenceGrid.Matrix;

namespace PresenceGrid.Grains.Tests;

/// <summary>
/// §7 scenarios written for Synapse's workers ([WORKER] S45–S48, S57–S63), as tests of what replaces
/// them here: edge-triggered syncing (start / keep-alive / stop instead of one relay per /sync) and
/// the per-destination federation outbox grain. Also S12 and S64.
/// </summary>
public sealed class EdgeTriggeredSyncScenarioTests
{
    private const string U1 = "@user1:test";
    private const string Observer = "@observer:test";

    private static async Task<(PresenceTestSilo Silo, string Token)> ObservedAsync()
    {
        var silo = await PresenceTestSilo.StartAsync();
        await silo.Join("!room:test", U1, Observer);
        var (_, token) = await silo.Sync(Observer);
        return (silo, token);
    }

    [Fact]
    public async Task S12_NotifiedUpdates_ReachARecipientInTheOrderTheyHappened()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        string[] users = [.. Enumerable.Range(1, 5).Select(i => $"@u{i}:test")];
        await silo.Join("!room:test", [Observer, .. users]);
        var (_, token) = await silo.Sync(Observer);

        foreach (string user in users)
        {
            await silo.Put(user, PresenceState.Online);
        }

        Assert.Equal(users, (await silo.Sync(Observer, token)).Events.Select(e => e.UserId.ToString()));
    }

    [Fact]
    public async Task S57_RepeatedSyncStarts_AreNotRelayedAgain_UntilSomethingChanges()
    {
        var (silo, token) = await ObservedAsync();
        await using (silo)
        {
            await silo.Presence.SetSyncingAsync(U1, "dev", start: true);
            var (first, token2) = await silo.Sync(Observer, token);
            await silo.Presence.SetSyncingAsync(U1, "dev", start: true);
            await silo.Presence.SetSyncingAsync(U1, "dev", start: true);
            await silo.Presence.KeepAliveAsync(U1, "dev");

            Assert.Single(first);
            Assert.Empty((await silo.Sync(Observer, token2)).Events);
            Assert.Equal(PresenceState.Online, (await silo.Get(U1)).State);
        }
    }

    [Fact]
    public async Task KeptAliveDevice_StaysOnlinePastTheFiveMinuteLease_UntilRenewalsStop()
    {
        // Issue 17 item 9: a sync (or watch) that stays open renews the device's lease (POST .../keepalive, which the
        // SDK's device watch sends every minute); a device that is not renewed stops syncing after 5 minutes.
        const string Silent = "@silent:test";
        await using var silo = await PresenceTestSilo.StartAsync();
        await silo.Presence.SetSyncingAsync(U1, "phone", start: true);
        await silo.Presence.SetSyncingAsync(Silent, "phone", start: true);

        for (int minute = 1; minute <= 12; minute++)
        {
            await silo.AdvanceAsync(TimeSpan.FromMinutes(1));
            await silo.Presence.KeepAliveAsync(U1, "phone");
        }

        // Idle (no activity for 5 minutes) but still syncing: unavailable, not offline, like Synapse's never-ending sync.
        Assert.Equal(PresenceState.Unavailable, (await silo.Get(U1)).State);
        Assert.Equal(PresenceState.Offline, (await silo.Get(Silent)).State);

        // Renewals stop (the client died): the lease runs out 5 minutes after the last one.
        await silo.AdvanceAsync(TimeSpan.FromMinutes(4));
        Assert.Equal(PresenceState.Unavailable, (await silo.Get(U1)).State);
        await silo.AdvanceAsync(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        Assert.Equal(PresenceState.Offline, (await silo.Get(U1)).State);
    }

    [Fact]
    public async Task S58_StateChangesFromSync_AreAppliedImmediately()
    {
        var (silo, token) = await ObservedAsync();
        await using (silo)
        {
            var seen = new List<PresenceState>();
            foreach (string presence in new[] { "online", "unavailable", "online" })
            {
                await silo.Presence.SetSyncingAsync(U1, "dev", start: true, setPresence: presence);
                var (events, next) = await silo.Sync(Observer, token);
                seen.Add(Assert.Single(events).State);
                token = next;
            }

            Assert.Equal([PresenceState.Online, PresenceState.Unavailable, PresenceState.Online], seen);
        }
    }

    [Fact]
    public async Task S59_DeviceStopsSyncing_GoesOfflineAfterTheSyncTimeout_AndASyncBringsItBack()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        await silo.Presence.SetSyncingAsync(U1, "dev", start: true);
        await silo.Presence.SetSyncingAsync(U1, "dev", start: false);

        await silo.AdvanceAsync(TimeSpan.FromSeconds(29));
        Assert.Equal(PresenceState.Online, (await silo.Get(U1)).State);
        await silo.AdvanceAsync(TimeSpan.FromSeconds(2));
        Assert.Equal(PresenceState.Offline, (await silo.Get(U1)).State);

        await silo.Presence.SetSyncingAsync(U1, "dev", start: true);
        Assert.Equal(PresenceState.Online, (await silo.Get(U1)).State);
    }

    [Fact]
    public async Task S60_ActivityBumps_WhileCurrentlyActive_DoNotNotify_ButDoAfterTheGranularity()
    {
        var (silo, token) = await ObservedAsync();
        await using (silo)
        {
            await silo.Presence.SetSyncingAsync(U1, "dev", start: true);
            (_, token) = await silo.Sync(Observer, token);
            await silo.Presence.BumpActiveAsync(U1, "dev");
            await silo.Presence.BumpActiveAsync(U1, "dev");
            await silo.Presence.BumpActiveAsync(U1, "dev");
            var (quiet, token2) = await silo.Sync(Observer, token);
            Assert.Empty(quiet);

            // Past the 60 s granularity the user is no longer currently active: a bump notifies again.
            await silo.AdvanceAsync(TimeSpan.FromSeconds(61));
            (_, token2) = await silo.Sync(Observer, token2);
            await silo.Presence.BumpActiveAsync(U1, "dev");
            var (events, _) = await silo.Sync(Observer, token2);
            Assert.True(Assert.Single(events).CurrentlyActive);
        }
    }

    [Fact]
    public async Task S61_ExplicitSetState_IsAlwaysApplied_BetweenSyncs()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        await silo.Presence.SetSyncingAsync(U1, "dev", start: true);
        await silo.Put(U1, PresenceState.Online, "explicit");
        await silo.Presence.SetSyncingAsync(U1, "dev", start: true);

        var state = await silo.Get(U1);
        Assert.Equal(PresenceState.Online, state.State);
        Assert.Equal("explicit", state.StatusMsg);
    }

    [Fact]
    public async Task S62_BumpAfterUnavailableSync_GoesThrough_AndBringsTheUserOnline()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        await silo.Presence.SetSyncingAsync(U1, "dev", start: true, setPresence: "unavailable");
        Assert.Equal(PresenceState.Unavailable, (await silo.Get(U1)).State);

        await silo.Presence.BumpActiveAsync(U1, "dev");

        Assert.Equal(PresenceState.Online, (await silo.Get(U1)).State);
    }

    [Fact]
    public void S63_RelayIntervalScalesWithSyncOnlineTimeout()
    {
        var timings = new Presence.PresenceTimings { SyncOnlineTimeout = TimeSpan.FromSeconds(12) };

        Assert.Equal(TimeSpan.FromMilliseconds(10_000), timings.WorkerRelayInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(25_000), new Presence.PresenceTimings().WorkerRelayInterval);
    }

    [Fact]
    public async Task S64_PutPresence_IsAppliedOnce()
    {
        var (silo, token) = await ObservedAsync();
        await using (silo)
        {
            var result = await silo.Presence.SetPresenceAsync(U1, new PresenceStatusRequest(PresenceState.Online, "once"));

            Assert.Equal(PresenceCommandOutcome.Applied, result.Outcome);
            Assert.Equal("once", Assert.Single((await silo.Sync(Observer, token)).Events).StatusMsg);
        }
    }

    [Fact]
    public async Task S45_S46_FederationOutbox_SendAndGet_InOrder_AndAskingAgainGivesNothing()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        UserPresenceState State(string user) => UserPresenceState.Default(UserId.Parse(user)) with { State = PresenceState.Online };
        await silo.Grains.GetGrain<IFederationOutboxGrain>("d1").Enqueue([State("@u1:test"), State("@u2:test")]);
        await silo.Grains.GetGrain<IFederationOutboxGrain>("d2").Enqueue([State("@u1:test"), State("@u2:test")]);
        await silo.Grains.GetGrain<IFederationOutboxGrain>("d3").Enqueue([State("@u3:test")]);

        Assert.Equal(["@u1:test", "@u2:test"], (await silo.Presence.TakeOutgoingAsync("d1", 1)).Single().Push.Select(s => s.UserId.ToString()));
        Assert.Equal(["@u1:test", "@u2:test"], (await silo.Presence.TakeOutgoingAsync("d2", 1)).Single().Push.Select(s => s.UserId.ToString()));
        Assert.Equal(["@u3:test"], (await silo.Presence.TakeOutgoingAsync("d3", 1)).Single().Push.Select(s => s.UserId.ToString()));
        Assert.Empty(await silo.Presence.TakeOutgoingAsync("d1", 1));
    }

    [Fact]
    public async Task S47_S48_FederationOutbox_KeepsWhatIsNotTakenYet_NothingAcceptedIsLost()
    {
        // Synapse's replication queue drops entries after 5 minutes because its workers read them in time;
        // here the homeserver takes EDUs itself, so an outbox keeps them until taken.
        await using var silo = await PresenceTestSilo.StartAsync();
        var outbox = silo.Grains.GetGrain<IFederationOutboxGrain>("d1");
        await outbox.Enqueue([UserPresenceState.Default(UserId.Parse("@u1:test"))]);

        await silo.AdvanceAsync(TimeSpan.FromMinutes(10));

        Assert.Single((await silo.Presence.TakeOutgoingAsync("d1", 1)).Single().Push);
    }
}
