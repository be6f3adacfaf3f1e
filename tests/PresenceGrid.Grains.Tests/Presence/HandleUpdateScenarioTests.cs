using PresenceGrid.Matrix;
using static PresenceGrid.Presence.Tests.TestIds;

namespace PresenceGrid.Presence.Tests;

public sealed class HandleUpdateScenarioTests
{
    private static UserPresenceState Default => UserPresenceState.Default(Foo);

    [Fact]
    public void S5_OfflineToOnline_NotifiesCurrentlyActiveThreeTimers()
    {
        var prev = Default;
        var next = prev with { State = PresenceState.Online, LastActiveTs = Now };

        var result = PresenceStateMachine.HandleUpdate(prev, next, isMine: true, Now, Timings);

        Assert.True(result.Notify);
        Assert.Equal(NotifyReason.StateChange, result.Reason);
        Assert.True(result.NewState.CurrentlyActive);
        Assert.Equal(PresenceState.Online, result.NewState.State);
        Assert.Equal(Now, result.NewState.LastFederationUpdateTs);
        Assert.True(result.FederationPing);
        Assert.Equal(
            [
                new PresenceTimer(PresenceTimerKind.Idle, Now + 300_000),
                new PresenceTimer(PresenceTimerKind.CurrentlyActive, Now + 60_000),
                new PresenceTimer(PresenceTimerKind.SyncTimeout, 0 + 30_000),
            ],
            result.Timers.ToArray());
    }

    [Fact]
    public void S6_OnlineToOnline_NoNotifyButPing()
    {
        var prev = Default with { State = PresenceState.Online, LastActiveTs = Now, CurrentlyActive = true };
        var next = prev with { State = PresenceState.Online };

        var result = PresenceStateMachine.HandleUpdate(prev, next, isMine: true, Now, Timings);

        Assert.False(result.Notify);
        Assert.Equal(NotifyReason.None, result.Reason);
        Assert.True(result.FederationPing);
        Assert.True(result.NewState.CurrentlyActive);
        Assert.Equal(Now, result.NewState.LastFederationUpdateTs);
        Assert.Equal(3, result.Timers.Length);
        Assert.Equal(prev with { LastFederationUpdateTs = Now }, result.NewState);
    }

    [Fact]
    public void S7_OnlineToOnline_LastActiveBumpWithinActivity_NoNotify()
    {
        var prev = Default with { State = PresenceState.Online, LastActiveTs = Now - 60_010, CurrentlyActive = true };
        var next = prev with { LastActiveTs = Now };

        var result = PresenceStateMachine.HandleUpdate(prev, next, isMine: true, Now, Timings);

        Assert.False(result.Notify);
        Assert.True(result.FederationPing);
        Assert.True(result.NewState.CurrentlyActive);
        Assert.Equal(Now, result.NewState.LastActiveTs);
        Assert.Equal(
            [
                new PresenceTimer(PresenceTimerKind.Idle, Now + 300_000),
                new PresenceTimer(PresenceTimerKind.CurrentlyActive, Now + 60_000),
                new PresenceTimer(PresenceTimerKind.SyncTimeout, 30_000),
            ],
            result.Timers.ToArray());
    }

    [Fact]
    public void S8_OnlineToOnline_LastActiveOlderThanGranularity_ClearsCurrentlyActiveAndNotifies()
    {
        var prev = Default with { State = PresenceState.Online, LastActiveTs = Now - 60_001, CurrentlyActive = true };
        var next = prev with { State = PresenceState.Online };

        var result = PresenceStateMachine.HandleUpdate(prev, next, isMine: true, Now, Timings);

        Assert.True(result.Notify);
        Assert.Equal(NotifyReason.CurrentlyActiveChange, result.Reason);
        Assert.False(result.NewState.CurrentlyActive);
        Assert.Equal(PresenceState.Online, result.NewState.State);
        Assert.Equal(Now, result.NewState.LastFederationUpdateTs);
        Assert.Equal(
            [
                new PresenceTimer(PresenceTimerKind.Idle, Now - 60_001 + 300_000),
                new PresenceTimer(PresenceTimerKind.SyncTimeout, 30_000),
            ],
            result.Timers.ToArray());
    }

    [Fact]
    public void S9_RemotePingTimer_NoNotifyNoPingOneFederationTimer()
    {
        var prev = UserPresenceState.Default(Remote) with { State = PresenceState.Online };
        var next = prev with { State = PresenceState.Online };

        var result = PresenceStateMachine.HandleUpdate(prev, next, isMine: false, Now, Timings);

        Assert.False(result.Notify);
        Assert.False(result.FederationPing);
        Assert.False(result.NewState.CurrentlyActive);
        Assert.Equal([new PresenceTimer(PresenceTimerKind.FederationTimeout, 0 + 1_800_000)], result.Timers.ToArray());
        Assert.Equal(prev, result.NewState);
    }

    [Fact]
    public void S10_OnlineToOffline_NotifiesNoTimers()
    {
        var prev = Default with { State = PresenceState.Online, LastActiveTs = Now, CurrentlyActive = true };
        var next = prev with { State = PresenceState.Offline };

        var result = PresenceStateMachine.HandleUpdate(prev, next, isMine: true, Now, Timings);

        Assert.True(result.Notify);
        Assert.Equal(NotifyReason.StateChange, result.Reason);
        Assert.False(result.FederationPing);
        Assert.Equal(PresenceState.Offline, result.NewState.State);
        Assert.Equal(Now, result.NewState.LastFederationUpdateTs);
        Assert.Empty(result.Timers);
    }

    [Fact]
    public void S11_OnlineToIdle_NotifiesOneSyncTimer()
    {
        var prev = Default with { State = PresenceState.Online, LastActiveTs = Now, CurrentlyActive = true };
        var next = prev with { State = PresenceState.Unavailable };

        var result = PresenceStateMachine.HandleUpdate(prev, next, isMine: true, Now, Timings);

        Assert.True(result.Notify);
        Assert.Equal(NotifyReason.StateChange, result.Reason);
        Assert.Equal(PresenceState.Unavailable, result.NewState.State);
        Assert.Equal(Now, result.NewState.LastFederationUpdateTs);
        Assert.Null(result.NewState.StatusMsg);

        // currently_active is only recomputed for online states; it is left as it was (and is not serialised).
        Assert.True(result.NewState.CurrentlyActive);
        Assert.Equal([new PresenceTimer(PresenceTimerKind.SyncTimeout, 30_000)], result.Timers.ToArray());
    }

    public static TheoryData<PresenceState, PresenceState> OrderedPairs()
    {
        var data = new TheoryData<PresenceState, PresenceState>();
        PresenceState[] all = [PresenceState.Busy, PresenceState.Online, PresenceState.Unavailable, PresenceState.Offline];
        foreach (var from in all)
        {
            foreach (var to in all)
            {
                if (from != to)
                {
                    data.Add(from, to);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(OrderedPairs))]
    public void S13_Override_PersistMode_InsertsNoTimers(PresenceState from, PresenceState to)
    {
        var prev = Default with { State = from, LastActiveTs = Now - 1_000 };
        var next = prev with { State = to };

        var result = PresenceStateMachine.HandleUpdate(prev, next, isMine: true, Now, Timings, persist: true);

        Assert.Empty(result.Timers);
        Assert.True(result.Notify);
        Assert.Equal(NotifyReason.StateChange, result.Reason);
        Assert.Equal(to, result.NewState.State);
    }

    [Fact]
    public void S13_OrderedPairs_AreTwelve() => Assert.Equal(12, OrderedPairs().Count());

    [Fact]
    public void HandleUpdate_Busy_InsertsSyncAndBusyTimers()
    {
        var prev = Default with { State = PresenceState.Online, LastActiveTs = Now, LastUserSyncTs = Now - 5, LastFederationUpdateTs = Now };
        var next = prev with { State = PresenceState.Busy };

        var result = PresenceStateMachine.HandleUpdate(prev, next, isMine: true, Now, Timings);

        Assert.Equal(
            [
                new PresenceTimer(PresenceTimerKind.SyncTimeout, Now - 5 + 30_000),
                new PresenceTimer(PresenceTimerKind.BusyTimeout, Now - 5 + 3_600_000),
            ],
            result.Timers.ToArray());
        Assert.False(result.FederationPing);
    }

    [Fact]
    public void HandleUpdate_PingBoundaryIsStrict()
    {
        var prev = Default with { State = PresenceState.Unavailable, LastActiveTs = Now, LastFederationUpdateTs = Now - 1_500_000 };

        var atBoundary = PresenceStateMachine.HandleUpdate(prev, prev, isMine: true, Now, Timings);
        var pastBoundary = PresenceStateMachine.HandleUpdate(prev, prev, isMine: true, Now + 1, Timings);

        Assert.False(atBoundary.FederationPing);
        Assert.Equal(Now - 1_500_000, atBoundary.NewState.LastFederationUpdateTs);
        Assert.True(pastBoundary.FederationPing);
        Assert.Equal(Now + 1, pastBoundary.NewState.LastFederationUpdateTs);
        Assert.False(pastBoundary.Notify);
    }

    [Fact]
    public void HandleUpdate_CurrentlyActiveBoundaryIsStrict()
    {
        var next = Default with { State = PresenceState.Online, LastActiveTs = Now - 60_000 };

        var result = PresenceStateMachine.HandleUpdate(Default, next, isMine: true, Now, Timings);

        Assert.False(result.NewState.CurrentlyActive);
        Assert.DoesNotContain(result.Timers, t => t.Kind == PresenceTimerKind.CurrentlyActive);
    }

    [Fact]
    public void HandleUpdate_StatesOfTwoUsers_Throws()
    {
        var other = UserPresenceState.Default(UserId.Parse("@other:test")) with { State = PresenceState.Online, LastActiveTs = Now };

        var e = Assert.Throws<ArgumentException>(() => PresenceStateMachine.HandleUpdate(Default, other, isMine: true, Now, Timings));

        Assert.Equal("next", e.ParamName);
    }
}
