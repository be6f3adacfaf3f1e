using PresenceGrid.Matrix;
using static PresenceGrid.Presence.Tests.TestIds;

namespace PresenceGrid.Presence.Tests;

public sealed class OperationsTests
{
    [Fact]
    public void StartSyncing_SetsDeviceAndUserTimestamps_StatusUntouched()
    {
        var sim = PresenceSim.Local("@foo:bar", T0);
        sim.SetState("dev-1", PresenceState.Unavailable, "away");
        sim.AdvanceBy(1_000);

        var t = sim.StartSyncing("dev-1");

        Assert.Equal(new DevicePresence("dev-1", PresenceState.Online, T0 + 1_000, T0 + 1_000, T0 + 301_000), sim.Aggregate.FindDevice("dev-1"));
        Assert.Equal(
            UserPresenceState.Default(Foo) with
            {
                State = PresenceState.Online,
                LastActiveTs = T0 + 1_000,
                LastUserSyncTs = T0 + 1_000,
                LastFederationUpdateTs = T0 + 1_000,
                StatusMsg = "away",
                CurrentlyActive = true,
            },
            sim.State);
        Assert.True(t.Notify);
        Assert.Equal(T0 + 61_001, t.NextWakeupAt);
    }

    [Fact]
    public void KeepAlive_OnlyExtendsLease_NoStateChange()
    {
        var sim = PresenceSim.Local("@foo:bar", T0);
        sim.StartSyncing("dev-1");
        var stateBefore = sim.State;
        sim.AdvanceBy(20_000);

        var t = sim.KeepAlive("dev-1");

        Assert.Equal(stateBefore, sim.State);
        Assert.False(t.Notify);
        Assert.False(t.StateChanged);
        Assert.Equal(T0 + 320_000, sim.Aggregate.FindDevice("dev-1")!.Value.SyncingUntil);
        Assert.Equal(T0, sim.Aggregate.FindDevice("dev-1")!.Value.LastActiveTs);
    }

    [Fact]
    public void KeepAlive_UnknownOrStoppedDevice_NoOp()
    {
        var sim = PresenceSim.Local("@foo:bar", T0);
        Assert.True(sim.KeepAlive("dev-1").IsNoOp);

        sim.StartSyncing("dev-1");
        sim.StopSyncing("dev-1");
        Assert.True(sim.KeepAlive("dev-1").IsNoOp);
        Assert.False(sim.Aggregate.IsSyncing("dev-1", sim.Now));
    }

    [Fact]
    public void StopSyncing_RefreshesDeviceAndUserSyncTimestamps_NoNotify()
    {
        var sim = PresenceSim.Local("@foo:bar", T0);
        sim.StartSyncing("dev-1");
        sim.AdvanceWithKeepAlives(200_000, 60_000, "dev-1");

        var t = sim.StopSyncing("dev-1");

        Assert.False(t.Notify);
        Assert.True(t.PersistLazily);
        Assert.Equal(T0 + 200_000, sim.State.LastUserSyncTs);
        Assert.Equal(new DevicePresence("dev-1", PresenceState.Online, T0, T0 + 200_000), sim.Aggregate.FindDevice("dev-1"));

        // Removed 30 s after the stop (not after the start: Synapse worker semantics, quirk 6 fixed).
        sim.AdvanceTo(T0 + 230_000);
        Assert.Equal(PresenceState.Online, sim.State.State);
        sim.AdvanceTo(T0 + 230_001);
        Assert.Equal(PresenceState.Offline, sim.State.State);
    }

    [Fact]
    public void StopSyncing_WithoutStart_NoOp()
    {
        var sim = PresenceSim.Local("@foo:bar", T0);
        sim.SetState("dev-1", PresenceState.Online);
        Assert.True(sim.StopSyncing("dev-1").IsNoOp);
    }

    [Fact]
    public void ContinuousSyncing_RestartEveryRelayInterval_StaysOnlineAndActive_NoNotifications()
    {
        var sim = PresenceSim.Local("@foo:bar", T0);
        sim.StartSyncing("dev-1");
        var interval = (long)sim.Timings.WorkerRelayInterval.TotalMilliseconds;
        Assert.Equal(25_000, interval);

        var notifications = 0;
        for (var i = 0; i < 100; i++)
        {
            sim.AdvanceBy(interval);
            if (sim.StartSyncing("dev-1").Notify)
            {
                notifications++;
            }
        }

        Assert.Equal(0, notifications);
        Assert.Equal(PresenceState.Online, sim.State.State);
        Assert.True(sim.State.CurrentlyActive);
        Assert.DoesNotContain(sim.Transitions, t => t.Notify && t.Current.State.State != PresenceState.Online);

        // Pings keep remote servers alive: 2 500 s of syncing crosses the 25 min ping interval once.
        Assert.Equal(1, sim.Transitions.Count(t => t.SendFederationPing));

        // Then the client stops: offline 30 s later.
        sim.StopSyncing("dev-1");
        var stop = sim.Now;
        sim.AdvanceTo(stop + 30_001);
        Assert.Equal(PresenceState.Offline, sim.State.State);
    }

    [Fact]
    public void SingleLongSync_IdleUser_StillPingsFederationEvery25Minutes()
    {
        var sim = PresenceSim.Local("@foo:bar", T0);
        sim.StartSyncing("dev-1");
        sim.AdvanceWithKeepAlives(3_600_000, 60_000, "dev-1");

        Assert.Equal(PresenceState.Unavailable, sim.State.State);
        var pings = sim.Transitions.Where(t => t.SendFederationPing).Select(t => t.Current.State.LastFederationUpdateTs).ToList();

        // Notified (last_fed = now) when going unavailable at T0 + 300 001, then pinged 25 min + 1 ms later, twice.
        Assert.Equal([T0 + 300_001 + 1_500_001, T0 + 300_001 + 2 * 1_500_001], pings);
    }

    [Fact]
    public void Bump_UnavailableDeviceBecomesOnline()
    {
        var sim = PresenceSim.Local("@foo:bar", T0);
        sim.SetState("dev-1", PresenceState.Unavailable);
        sim.AdvanceBy(5_000);

        var t = sim.Bump("dev-1");

        Assert.Equal(PresenceState.Online, sim.State.State);
        Assert.Equal(T0 + 5_000, sim.State.LastActiveTs);
        Assert.Equal(NotifyReason.StateChange, t.Reason);
    }

    [Fact]
    public void Bump_OfflineUserStaysOfflineWithNewLastActive()
    {
        var sim = PresenceSim.Local("@foo:bar", T0);
        sim.SetState("dev-1", PresenceState.Offline);
        sim.AdvanceBy(120_000);

        var t = sim.Bump("dev-1");

        Assert.Equal(PresenceState.Offline, sim.State.State);
        Assert.Equal(T0 + 120_000, sim.State.LastActiveTs);
        Assert.Equal(NotifyReason.LastActiveChangeNotOnline, t.Reason);
    }

    [Fact]
    public void PutOfflineOnOneDevice_OtherOnlineDeviceKeepsUserOnline()
    {
        var sim = PresenceSim.Local("@foo:bar", T0);
        sim.StartSyncing("phone");
        sim.SetState("laptop", PresenceState.Offline);

        Assert.Equal(PresenceState.Online, sim.State.State);
    }

    [Fact]
    public void Quirk4_BusyIsStickyAcrossSyncingDevices()
    {
        var sim = PresenceSim.Local("@foo:bar", T0);
        sim.StartSyncing("phone");
        sim.SetState("laptop", PresenceState.Busy);
        sim.StartSyncing("phone");
        Assert.Equal(PresenceState.Busy, sim.Aggregate.FindDevice("phone")!.Value.State);

        // PUT online from the laptop cannot clear busy while the phone (forced busy) is around.
        sim.SetState("laptop", PresenceState.Online);
        Assert.Equal(PresenceState.Busy, sim.State.State);
    }

    [Fact]
    public void SetState_StatusLongerThan2048Bytes_Rejected()
    {
        var sim = PresenceSim.Local("@foo:bar", T0);
        sim.SetState("dev-1", PresenceState.Online, new string('é', 1024));

        var e = Assert.Throws<MatrixValidationException>(() => sim.SetState("dev-1", PresenceState.Online, new string('é', 1024) + "x"));

        Assert.Equal("status_msg", e.Field);
        Assert.Equal(MatrixErrorCodes.InvalidParam, e.ErrCode);
        Assert.Equal(new string('é', 1024), sim.State.StatusMsg);
    }

    [Fact]
    public void DisabledMode_EverythingIsNoOp()
    {
        var sim = PresenceSim.Local("@foo:bar", T0, mode: PresenceMode.Disabled);
        Assert.True(sim.SetState("dev-1", PresenceState.Online).IsNoOp);
        Assert.True(sim.StartSyncing("dev-1").IsNoOp);
        Assert.True(sim.Bump("dev-1").IsNoOp);
        Assert.True(sim.Apply((a, n) => PresenceOperations.SetPresenceFromModule(a, PresenceState.Online, null, n, sim.Timings, sim.Mode)).IsNoOp);
        Assert.Equal(UserPresenceState.Default(Foo), sim.State);
        Assert.Null(sim.NextWakeup);
    }

    [Fact]
    public void ModuleUpdate_Tracked_BypassesDevicesAndForcesNotify()
    {
        var sim = PresenceSim.Local("@foo:bar", T0);
        sim.SetState("dev-1", PresenceState.Online, "s");

        var t = sim.Apply((a, n) => PresenceOperations.SetPresenceFromModule(a, PresenceState.Online, "s", n, sim.Timings));

        Assert.True(t.Notify);
        Assert.True(t.Forced);
        Assert.Equal(NotifyReason.None, t.Reason);
        Assert.NotEmpty(t.Timers);
    }

    [Fact]
    public void Restore_RemoteOrOffline_HasNoPseudoDevice()
    {
        var remote = UserPresenceState.Default(Remote) with { State = PresenceState.Online };
        Assert.Empty(UserPresenceAggregate.Restore(remote, isMine: false).Devices);
        Assert.Empty(UserPresenceAggregate.Restore(UserPresenceState.Default(Foo), isMine: true).Devices);
    }

    [Fact]
    public void RemoteUser_FederationUpdatesThenSilence_OfflineAfter30Minutes()
    {
        var sim = new PresenceSim(UserPresenceAggregate.Create(Remote, isMine: false), T0);
        var update = new FederationPresenceUpdate(Remote, PresenceState.Online, 2_000, "hello", true);

        var t = sim.Apply((a, n) => PresenceOperations.ApplyFederationUpdate(a, update, n, sim.Timings));

        Assert.True(t.Notify);
        Assert.Equal(
            UserPresenceState.Default(Remote) with
            {
                State = PresenceState.Online,
                LastActiveTs = T0 - 2_000,
                LastFederationUpdateTs = T0,
                StatusMsg = "hello",
                CurrentlyActive = true,
            },
            sim.State);
        Assert.Equal(T0 + 1_800_001, t.NextWakeupAt);

        sim.AdvanceTo(T0 + 1_800_000);
        Assert.Equal(PresenceState.Online, sim.State.State);
        sim.AdvanceTo(T0 + 1_800_001);
        Assert.Equal(PresenceState.Offline, sim.State.State);
        Assert.Equal("hello", sim.State.StatusMsg);
    }

    [Fact]
    public void RemoteUser_UpdateForAnotherUser_Throws()
    {
        var aggregate = UserPresenceAggregate.Create(Remote, isMine: false);
        var other = new FederationPresenceUpdate(UserId.Parse("@bob:remote.example"), PresenceState.Online, null, null, false);

        Assert.Throws<ArgumentException>(() => PresenceOperations.ApplyFederationUpdate(aggregate, other, T0, Timings));
    }
}
