using System.Collections.Immutable;
using PresenceGrid.Matrix;
using static PresenceGrid.Presence.Tests.TestIds;

namespace PresenceGrid.Presence.Tests;

public sealed class HandleTimeoutScenarioTests
{
    private const string StatusMsg = "I'm here!";

    private static ImmutableArray<DevicePresence> DeviceMirroring(UserPresenceState state, bool syncing = false) =>
        [new DevicePresence("dev-1", state.State, state.LastActiveTs, state.LastUserSyncTs, syncing ? Now + 60_000 : null)];

    [Fact]
    public void S16_IdleTimer_OnlineBecomesUnavailable_StatusKept()
    {
        var state = UserPresenceState.Default(Foo) with
        {
            State = PresenceState.Online,
            LastActiveTs = Now - 300_000 - 1,
            LastUserSyncTs = Now,
            StatusMsg = StatusMsg,
        };

        var result = PresenceStateMachine.HandleTimeout(state, isMine: true, DeviceMirroring(state), Now, Timings);

        Assert.NotNull(result.NewState);
        Assert.Equal(PresenceState.Unavailable, result.NewState.State);
        Assert.Equal(StatusMsg, result.NewState.StatusMsg);
        Assert.Equal([new DevicePresence("dev-1", PresenceState.Unavailable, Now - 300_001, Now)], result.Devices.ToArray());
    }

    [Fact]
    public void S16_IdleTimer_NotYetIdleAtExactBoundary()
    {
        var state = UserPresenceState.Default(Foo) with
        {
            State = PresenceState.Online,
            LastActiveTs = Now - 300_000,
            LastUserSyncTs = Now,
            LastFederationUpdateTs = Now,
        };

        var result = PresenceStateMachine.HandleTimeout(state, isMine: true, DeviceMirroring(state), Now, Timings);

        // Not idle yet; returned only because last_active is older than the granularity (to clear currently_active).
        Assert.NotNull(result.NewState);
        Assert.Equal(PresenceState.Online, result.NewState.State);
        Assert.Equal(PresenceState.Online, Assert.Single(result.Devices).State);
    }

    [Fact]
    public void S17_BusyNoIdle_StaysBusy_StatusKept()
    {
        var state = UserPresenceState.Default(Foo) with
        {
            State = PresenceState.Busy,
            LastActiveTs = Now - 300_000 - 1,
            LastUserSyncTs = Now,
            StatusMsg = StatusMsg,
        };

        var result = PresenceStateMachine.HandleTimeout(state, isMine: true, DeviceMirroring(state), Now, Timings);

        Assert.NotNull(result.NewState);
        Assert.Equal(PresenceState.Busy, result.NewState.State);
        Assert.Equal(StatusMsg, result.NewState.StatusMsg);
        Assert.Equal(PresenceState.Busy, Assert.Single(result.Devices).State);
    }

    [Fact]
    public void S18_SyncTimeout_NotSyncing_GoesOffline_StatusKept()
    {
        var state = UserPresenceState.Default(Foo) with
        {
            State = PresenceState.Online,
            LastActiveTs = 0,
            LastUserSyncTs = Now - 30_000 - 1,
            StatusMsg = StatusMsg,
        };

        var result = PresenceStateMachine.HandleTimeout(state, isMine: true, DeviceMirroring(state), Now, Timings);

        Assert.NotNull(result.NewState);
        Assert.Equal(PresenceState.Offline, result.NewState.State);
        Assert.Equal(StatusMsg, result.NewState.StatusMsg);
        Assert.Empty(result.Devices);
    }

    [Fact]
    public void S19_SyncOnline_SyncingDevice_StaysOnline()
    {
        var state = UserPresenceState.Default(Foo) with
        {
            State = PresenceState.Online,
            LastActiveTs = Now - 30_000 - 1,
            LastUserSyncTs = Now - 30_000 - 1,
            StatusMsg = StatusMsg,
        };

        var result = PresenceStateMachine.HandleTimeout(state, isMine: true, DeviceMirroring(state, syncing: true), Now, Timings);

        Assert.NotNull(result.NewState);
        Assert.Equal(PresenceState.Online, result.NewState.State);
        Assert.Equal(StatusMsg, result.NewState.StatusMsg);
        Assert.Single(result.Devices);
    }

    [Fact]
    public void S19_SyncOnline_SameDeviceWithoutLease_GoesOffline()
    {
        var state = UserPresenceState.Default(Foo) with
        {
            State = PresenceState.Online,
            LastActiveTs = Now - 30_000 - 1,
            LastUserSyncTs = Now - 30_000 - 1,
            LastFederationUpdateTs = Now,
        };

        var result = PresenceStateMachine.HandleTimeout(state, isMine: true, DeviceMirroring(state, syncing: false), Now, Timings);

        Assert.Equal(PresenceState.Offline, result.NewState?.State);
    }

    [Fact]
    public void S20_FederationPing_ReturnsUnchangedStateForResend()
    {
        var state = UserPresenceState.Default(Foo) with
        {
            State = PresenceState.Online,
            LastActiveTs = Now,
            LastUserSyncTs = Now,
            LastFederationUpdateTs = Now - 1_500_000 - 1,
            StatusMsg = StatusMsg,
            CurrentlyActive = true,
        };

        var result = PresenceStateMachine.HandleTimeout(state, isMine: true, DeviceMirroring(state), Now, Timings);

        Assert.Equal(state, result.NewState);

        var update = PresenceStateMachine.HandleUpdate(state, result.NewState!, isMine: true, Now, Timings);
        Assert.True(update.FederationPing);
        Assert.False(update.Notify);
        Assert.Equal(Now, update.NewState.LastFederationUpdateTs);
    }

    [Fact]
    public void S21_NoTimeout_AllFresh_ReturnsNull()
    {
        var state = UserPresenceState.Default(Foo) with
        {
            State = PresenceState.Online,
            LastActiveTs = Now,
            LastUserSyncTs = Now,
            LastFederationUpdateTs = Now,
            StatusMsg = StatusMsg,
        };

        var result = PresenceStateMachine.HandleTimeout(state, isMine: true, DeviceMirroring(state), Now, Timings);

        Assert.Null(result.NewState);
        Assert.Equal(DeviceMirroring(state).ToArray(), result.Devices.ToArray());
    }

    [Fact]
    public void S22_FederationTimeout_RemoteGoesOffline_StatusKept()
    {
        var state = UserPresenceState.Default(Remote) with
        {
            State = PresenceState.Online,
            LastActiveTs = Now,
            LastUserSyncTs = Now,
            LastFederationUpdateTs = Now - 1_800_000 - 1,
            StatusMsg = StatusMsg,
        };

        var result = PresenceStateMachine.HandleTimeout(state, isMine: false, [], Now, Timings);

        Assert.Equal(state with { State = PresenceState.Offline }, result.NewState);
    }

    [Fact]
    public void S22_FederationTimeout_NotAtExactBoundary()
    {
        var state = UserPresenceState.Default(Remote) with { State = PresenceState.Online, LastFederationUpdateTs = Now - 1_800_000 };

        Assert.Null(PresenceStateMachine.HandleTimeout(state, isMine: false, [], Now, Timings).NewState);
    }

    [Fact]
    public void S23_LastActive_ReturnsSameValues_ThenHandleUpdateClearsCurrentlyActive()
    {
        var state = UserPresenceState.Default(Foo) with
        {
            State = PresenceState.Online,
            LastActiveTs = Now - 60_000 - 1,
            LastUserSyncTs = Now,
            LastFederationUpdateTs = Now,
            StatusMsg = StatusMsg,
            CurrentlyActive = true,
        };

        var result = PresenceStateMachine.HandleTimeout(state, isMine: true, DeviceMirroring(state), Now, Timings);

        Assert.Equal(state, result.NewState);

        var update = PresenceStateMachine.HandleUpdate(state, result.NewState!, isMine: true, Now, Timings);
        Assert.False(update.NewState.CurrentlyActive);
        Assert.True(update.Notify);
        Assert.Equal(NotifyReason.CurrentlyActiveChange, update.Reason);
    }

    [Fact]
    public void HandleTimeout_OfflineUser_ReturnsNullAndKeepsDevices()
    {
        var state = UserPresenceState.Default(Foo);
        ImmutableArray<DevicePresence> devices = [new DevicePresence("dev-1", PresenceState.Offline, 0, 0)];

        var result = PresenceStateMachine.HandleTimeout(state, isMine: true, devices, Now, Timings);

        Assert.Null(result.NewState);
        Assert.Equal(devices.ToArray(), result.Devices.ToArray());
    }

    [Fact]
    public void HandleTimeout_BusyDeviceNotSyncing_RemovedOnlyAfterOneHour()
    {
        var state = UserPresenceState.Default(Foo) with { State = PresenceState.Busy, LastActiveTs = Now, LastFederationUpdateTs = Now };
        ImmutableArray<DevicePresence> devices = [new DevicePresence("dev-1", PresenceState.Busy, Now, Now)];

        var atLimit = PresenceStateMachine.HandleTimeout(state, isMine: true, devices, Now + 3_600_000, Timings);
        var pastLimit = PresenceStateMachine.HandleTimeout(state, isMine: true, devices, Now + 3_600_001, Timings);

        Assert.Single(atLimit.Devices);
        Assert.Equal(PresenceState.Busy, atLimit.NewState?.State);
        Assert.Empty(pastLimit.Devices);
        Assert.Equal(PresenceState.Offline, pastLimit.NewState?.State);
    }

    [Fact]
    public void HandleTimeout_DeviceRemovedButCombinedUnchanged_ReturnsNullWithFewerDevices()
    {
        var state = UserPresenceState.Default(Foo) with { State = PresenceState.Online, LastActiveTs = Now - 10, LastFederationUpdateTs = Now };
        ImmutableArray<DevicePresence> devices =
        [
            new DevicePresence("old", PresenceState.Online, Now - 40_000, Now - 40_000),
            new DevicePresence("new", PresenceState.Online, Now - 10, Now - 10, Now + 1_000),
        ];

        var result = PresenceStateMachine.HandleTimeout(state, isMine: true, devices, Now, Timings);

        Assert.Null(result.NewState);
        Assert.Equal("new", Assert.Single(result.Devices).DeviceId);
    }
}
