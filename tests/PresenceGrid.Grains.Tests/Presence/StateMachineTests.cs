using System.Collections.Immutable;
using PresenceGrid.Matrix;
using static PresenceGrid.Presence.Tests.TestIds;

namespace PresenceGrid.Presence.Tests;

public sealed class StateMachineTests
{
    private static UserPresenceState Online(long lastActive, bool active = true) =>
        UserPresenceState.Default(Foo) with { State = PresenceState.Online, LastActiveTs = lastActive, CurrentlyActive = active };

    [Fact]
    public void ShouldNotify_IdenticalStates_None()
    {
        var s = Online(Now);
        Assert.Equal(new NotifyDecision(NotifyReason.None, true), PresenceStateMachine.ShouldNotify(s, s with { }, isMine: true, Timings));
    }

    [Fact]
    public void ShouldNotify_StatusChangeWinsOverStateChange()
    {
        var old = Online(Now);
        var next = old with { State = PresenceState.Offline, StatusMsg = "x" };

        var decision = PresenceStateMachine.ShouldNotify(old, next, isMine: false, Timings);

        Assert.Equal(NotifyReason.StatusMsgChange, decision.Reason);
        Assert.Equal("remote", decision.Locality);
        Assert.Equal("status_msg_change", decision.Reason.ToMetricLabel());
    }

    [Fact]
    public void ShouldNotify_EmptyStatusDiffersFromNull()
    {
        var old = Online(Now);
        Assert.Equal(NotifyReason.StatusMsgChange, PresenceStateMachine.ShouldNotify(old, old with { StatusMsg = "" }, true, Timings).Reason);
    }

    [Fact]
    public void ShouldNotify_StateChange()
    {
        var old = Online(Now);
        var decision = PresenceStateMachine.ShouldNotify(old, old with { State = PresenceState.Unavailable }, true, Timings);
        Assert.Equal(NotifyReason.StateChange, decision.Reason);
        Assert.Equal("state_change", decision.Reason.ToMetricLabel());
        Assert.Equal("local", decision.Locality);
    }

    [Fact]
    public void ShouldNotify_OnlineCurrentlyActiveChange()
    {
        var old = Online(Now);
        var decision = PresenceStateMachine.ShouldNotify(old, old with { CurrentlyActive = false }, true, Timings);
        Assert.Equal(NotifyReason.CurrentlyActiveChange, decision.Reason);
        Assert.Equal("current_active_change", decision.Reason.ToMetricLabel());
    }

    [Fact]
    public void ShouldNotify_OnlineLastActiveJump_OnlyWhenNotCurrentlyActive()
    {
        var inactive = Online(Now - 60_001, active: false);
        var active = Online(Now - 60_001, active: true);

        Assert.Equal(NotifyReason.LastActiveChangeOnline, PresenceStateMachine.ShouldNotify(inactive, inactive with { LastActiveTs = Now }, true, Timings).Reason);
        Assert.Equal(NotifyReason.None, PresenceStateMachine.ShouldNotify(active, active with { LastActiveTs = Now }, true, Timings).Reason);
        Assert.Equal(NotifyReason.None, PresenceStateMachine.ShouldNotify(inactive, inactive with { LastActiveTs = Now - 1 }, true, Timings).Reason);
        Assert.Equal("last_active_change_online", NotifyReason.LastActiveChangeOnline.ToMetricLabel());
    }

    [Fact]
    public void ShouldNotify_NotOnlineLastActiveJump()
    {
        var old = UserPresenceState.Default(Foo) with { State = PresenceState.Offline, LastActiveTs = Now - 60_001 };

        Assert.Equal(NotifyReason.LastActiveChangeNotOnline, PresenceStateMachine.ShouldNotify(old, old with { LastActiveTs = Now }, true, Timings).Reason);
        Assert.Equal(NotifyReason.None, PresenceStateMachine.ShouldNotify(old, old with { LastActiveTs = Now - 1 }, true, Timings).Reason);
        Assert.Equal("last_active_change_not_online", NotifyReason.LastActiveChangeNotOnline.ToMetricLabel());
    }

    [Fact]
    public void ShouldNotify_FederationOrSyncTimestampsAlone_None()
    {
        var old = Online(Now);
        var next = old with { LastFederationUpdateTs = Now + 5, LastUserSyncTs = Now + 7 };
        Assert.Equal(NotifyReason.None, PresenceStateMachine.ShouldNotify(old, next, true, Timings).Reason);
    }

    [Fact]
    public void ShouldNotify_UsesConfiguredGranularity()
    {
        var timings = new PresenceTimings { LastActiveGranularity = TimeSpan.FromSeconds(10) };
        var old = UserPresenceState.Default(Foo) with { State = PresenceState.Unavailable, LastActiveTs = Now };
        Assert.Equal(NotifyReason.LastActiveChangeNotOnline, PresenceStateMachine.ShouldNotify(old, old with { LastActiveTs = Now + 10_001 }, true, timings).Reason);
    }

    [Theory]
    [InlineData(new PresenceState[0], PresenceState.Offline)]
    [InlineData(new[] { PresenceState.Offline, PresenceState.Unavailable }, PresenceState.Unavailable)]
    [InlineData(new[] { PresenceState.Unavailable, PresenceState.Online }, PresenceState.Online)]
    [InlineData(new[] { PresenceState.Online, PresenceState.Busy, PresenceState.Unavailable }, PresenceState.Busy)]
    [InlineData(new[] { PresenceState.Offline }, PresenceState.Offline)]
    public void CombineDeviceStates_HighestPriorityWins(PresenceState[] states, PresenceState expected)
    {
        System.Collections.Immutable.ImmutableArray<DevicePresence> devices = [.. states.Select((s, i) => new DevicePresence($"d{i}", s, i, i))];
        Assert.Equal(expected, DevicePresence.Combine(devices));
    }

    [Fact]
    public void NextWakeup_OfflineUser_None()
    {
        Assert.Null(PresenceStateMachine.ComputeNextWakeup(UserPresenceState.Default(Foo), true, [], Now, Timings));
    }

    [Fact]
    public void NextWakeup_RemoteUser_FederationTimeout()
    {
        var state = UserPresenceState.Default(Remote) with { State = PresenceState.Online, LastFederationUpdateTs = Now };
        Assert.Equal(Now + 1_800_001, PresenceStateMachine.ComputeNextWakeup(state, false, [], Now, Timings));
    }

    [Fact]
    public void NextWakeup_LocalUser_EarliestOfAllCandidates()
    {
        var state = Online(Now) with { LastFederationUpdateTs = Now, LastUserSyncTs = Now };
        ImmutableArray<DevicePresence> syncing = [new DevicePresence("a", PresenceState.Online, Now, Now, Now + 300_000)];
        ImmutableArray<DevicePresence> notSyncing = [new DevicePresence("a", PresenceState.Online, Now, Now)];
        ImmutableArray<DevicePresence> busy = [new DevicePresence("a", PresenceState.Busy, Now, Now)];

        // currently_active expires first.
        Assert.Equal(Now + 60_001, PresenceStateMachine.ComputeNextWakeup(state, true, syncing, Now, Timings));

        // Not currently active: syncing device idles at +5 min, its lease ends at +5 min too.
        Assert.Equal(Now + 300_001, PresenceStateMachine.ComputeNextWakeup(state with { CurrentlyActive = false }, true, syncing, Now, Timings));

        // Not syncing: removed after the sync timeout.
        Assert.Equal(Now + 30_001, PresenceStateMachine.ComputeNextWakeup(state, true, notSyncing, Now, Timings));

        // Busy, not syncing, not online: only the 1 h removal and the 25 min ping remain.
        var busyState = state with { State = PresenceState.Busy };
        Assert.Equal(Now + 1_500_001, PresenceStateMachine.ComputeNextWakeup(busyState, true, busy, Now, Timings));
    }

    [Fact]
    public void ExactWakeups_MatchFiveSecondTicking()
    {
        // A Synapse-like driver that runs the timeout every 5 s must reach the same states, at most 5 s later.
        var exact = PresenceSim.Local("@foo:bar", T0);
        var ticking = PresenceSim.Local("@foo:bar", T0);
        foreach (var sim in new[] { exact, ticking })
        {
            sim.StartSyncing("phone");
            sim.SetState("laptop", PresenceState.Online, "hi");
            sim.StopSyncing("phone");
        }

        exact.AdvanceTo(T0 + 3_600_000);
        var states = new List<PresenceState>();
        var tick = ticking;
        var aggregate = tick.Aggregate;
        for (var now = T0 + 5_000; now <= T0 + 3_600_000; now += 5_000)
        {
            aggregate = PresenceOperations.HandleTimer(aggregate, now, tick.Timings).Current;
            states.Add(aggregate.State.State);
        }

        Assert.Equal(exact.State.State, aggregate.State.State);
        Assert.Equal(PresenceState.Offline, aggregate.State.State);
        Assert.Equal("hi", aggregate.State.StatusMsg);

        // Offline at the first tick after both devices expired (laptop: last active T0, phone: sync stopped at T0).
        Assert.Equal(PresenceState.Online, states[4]);      // T0 + 25 s
        Assert.Equal(PresenceState.Online, states[5]);      // T0 + 30 s: not strictly later yet
        Assert.Equal(PresenceState.Offline, states[6]);     // T0 + 35 s
        Assert.Equal(
            exact.Transitions.Where(t => t.Reason == NotifyReason.StateChange).Select(t => t.Current.State.State).Last(),
            states[^1]);
    }
}
