using System.Text.Json;
using PresenceGrid.Matrix;
using static PresenceGrid.Presence.Tests.TestIds;

namespace PresenceGrid.Presence.Tests;

public sealed class SetStateScenarioTests
{
    private const string Here = "I'm here!";

    private const PresenceState B = PresenceState.Busy;
    private const PresenceState O = PresenceState.Online;
    private const PresenceState U = PresenceState.Unavailable;
    private const PresenceState F = PresenceState.Offline;

    private static PresenceSim NewSim(PresenceMode mode = PresenceMode.Enabled) => PresenceSim.Local("@test:server", T0, mode: mode);

    [Fact]
    public void S32_ExternalProcessTimeout_SilentGatewayLeaseExpires_Offline()
    {
        var sim = NewSim();
        sim.StartSyncing("dev-1");
        Assert.Equal(T0 + 300_000, sim.Aggregate.FindDevice("dev-1")!.Value.SyncingUntil);

        sim.AdvanceTo(T0 + 150_000);
        Assert.Equal(O, sim.State.State);

        sim.AdvanceTo(T0 + 300_000);
        Assert.Equal(O, sim.State.State);

        sim.AdvanceTo(T0 + 300_001);
        Assert.Equal(F, sim.State.State);
        Assert.Empty(sim.Aggregate.Devices);

        sim.AdvanceTo(T0 + 450_000);
        Assert.Equal(F, sim.State.State);
    }

    [Fact]
    public void S33_UserGoesOfflineByTimeout_StatusMsgRemains()
    {
        var sim = NewSim();
        sim.SetState("dev-1", O, Here);

        sim.AdvanceTo(T0 + 15_000);
        Assert.Equal(O, sim.State.State);
        Assert.Equal(Here, sim.State.StatusMsg);

        sim.AdvanceTo(T0 + 30_000);
        Assert.Equal(O, sim.State.State);

        sim.AdvanceTo(T0 + 30_001);
        Assert.Equal(F, sim.State.State);
        Assert.Equal(Here, sim.State.StatusMsg);

        sim.AdvanceTo(T0 + 45_000);
        Assert.Equal(F, sim.State.State);
        Assert.Equal(Here, sim.State.StatusMsg);
    }

    [Fact]
    public void S34_UserGoesOfflineManually_WithNoStatusMsg_StatusCleared()
    {
        var sim = NewSim();
        sim.SetState("dev-1", O, Here);

        var t = sim.SetState("dev-1", F);

        Assert.Equal(F, sim.State.State);
        Assert.Null(sim.State.StatusMsg);
        Assert.True(t.Notify);
        Assert.Equal(NotifyReason.StatusMsgChange, t.Reason);
    }

    [Fact]
    public void S35_UserGoesOfflineManually_WithStatusMsg()
    {
        var sim = NewSim();
        sim.SetState("dev-1", O, Here);

        sim.SetState("dev-1", F, "And now here.");

        Assert.Equal(F, sim.State.State);
        Assert.Equal("And now here.", sim.State.StatusMsg);
        Assert.Null(sim.NextWakeup);
    }

    [Fact]
    public void S36_UserResetOnline_WithNoStatus_OmittedStatusClears()
    {
        var sim = NewSim();
        sim.SetState("dev-1", O, Here);

        using var body = JsonDocument.Parse("""{"presence":"online"}""");
        var request = PresenceStatusRequest.Parse(body.RootElement, busyEnabled: false);
        sim.SetState("dev-1", request.Presence, request.StatusMsg);

        Assert.Equal(O, sim.State.State);
        Assert.Null(sim.State.StatusMsg);
    }

    [Fact]
    public void S37_SetPresenceWithStatusMsgNone_StatusCleared()
    {
        var sim = NewSim();
        sim.SetState("dev-1", O, Here);

        var t = sim.SetState("dev-1", O, statusMsg: null);

        Assert.Equal(O, sim.State.State);
        Assert.Null(sim.State.StatusMsg);
        Assert.Equal(NotifyReason.StatusMsgChange, t.Reason);
    }

    [Fact]
    public void S38_SetPresenceFromSyncingNotSet_SyncThatDoesNotAffectPresence_NoChange()
    {
        var sim = NewSim();
        sim.SetState("dev-1", U, Here);
        var before = sim.Aggregate;

        // affect_presence=false is what set_presence=offline maps to; a ratelimited sync never reaches the domain.
        var t = sim.StartSyncing("dev-1", F);

        Assert.True(t.IsNoOp);
        Assert.Equal(before, sim.Aggregate);
        Assert.Equal(U, sim.State.State);
        Assert.Equal(Here, sim.State.StatusMsg);
        Assert.False(sim.Aggregate.IsSyncing("dev-1", sim.Now));
    }

    [Fact]
    public void S39_SetPresenceFromSyncingIsSet_UnavailableToOnline()
    {
        var sim = NewSim();
        sim.SetState("dev-1", U);

        var t = sim.StartSyncing("dev-1", O);

        Assert.Equal(O, sim.State.State);
        Assert.True(t.Notify);
        Assert.Equal(NotifyReason.StateChange, t.Reason);
        Assert.True(sim.Aggregate.IsSyncing("dev-1", sim.Now));
    }

    [Theory]
    [InlineData(O, O, O, O, U)]
    [InlineData(O, U, O, U, U)]
    [InlineData(O, F, O, U, U)]
    [InlineData(O, B, B, B, B)]
    [InlineData(U, O, O, O, U)]
    [InlineData(U, U, U, U, U)]
    [InlineData(U, F, U, U, U)]
    [InlineData(U, B, B, B, B)]
    [InlineData(F, O, O, O, U)]
    [InlineData(F, U, U, U, U)]
    [InlineData(F, F, F, F, F)]
    [InlineData(F, B, B, B, B)]
    [InlineData(B, O, B, B, B)]
    [InlineData(B, U, B, B, B)]
    [InlineData(B, F, B, B, B)]
    [InlineData(B, B, B, B, B)]
    public void S40_SetPresenceFromSyncingMultiDevice(PresenceState s1, PresenceState s2, PresenceState e1, PresenceState e2, PresenceState e3)
    {
        var sim = NewSim();
        sim.StartSyncing("dev-1", s1);
        sim.AdvanceWithKeepAlives(150_000, 30_000, "dev-1");
        sim.StartSyncing("dev-2", s2);
        Assert.Equal(e1, sim.State.State);

        // Both syncs stay open: the gateway keeps them alive; nothing else happens.
        sim.AdvanceWithKeepAlives(150_000, 30_000, "dev-1", "dev-2");
        Assert.Equal(e1, sim.State.State);
        sim.AdvanceTo(T0 + 300_001);
        Assert.Equal(e2, sim.State.State);

        sim.AdvanceWithKeepAlives(149_999, 30_000, "dev-1", "dev-2");
        Assert.Equal(T0 + 450_000, sim.Now);
        Assert.Equal(e2, sim.State.State);
        sim.AdvanceTo(T0 + 450_001);
        Assert.Equal(e3, sim.State.State);
    }

    [Theory]
    [InlineData(O, O, O, O)]
    [InlineData(O, U, O, U)]
    [InlineData(O, F, O, F)]
    [InlineData(O, B, B, B)]
    [InlineData(U, O, O, O)]
    [InlineData(U, U, U, U)]
    [InlineData(U, F, U, F)]
    [InlineData(U, B, B, B)]
    [InlineData(F, O, O, O)]
    [InlineData(F, U, U, U)]
    [InlineData(F, F, F, F)]
    [InlineData(F, B, B, B)]
    [InlineData(B, O, B, B)]
    [InlineData(B, U, B, B)]
    [InlineData(B, F, B, B)]
    [InlineData(B, B, B, B)]
    public void S41_SetPresenceFromNonSyncingMultiDevice(PresenceState s1, PresenceState s2, PresenceState e1, PresenceState e2)
    {
        var sim = NewSim();
        sim.StartSyncing("dev-1", s1);
        sim.AdvanceBy(100);
        sim.StartSyncing("dev-2", s2);
        Assert.Equal(e1, sim.State.State);

        sim.StopSyncing("dev-1");
        sim.AdvanceWithKeepAlives(30_000, 10_000, "dev-2");
        Assert.Equal(e1, sim.State.State);
        sim.AdvanceBy(1);
        Assert.Equal(e2, sim.State.State);

        sim.StopSyncing("dev-2");
        var wait = s1 == B || s2 == B ? 3_600_000 : 30_000;
        sim.AdvanceBy(wait);
        if (s2 != F)
        {
            Assert.NotEqual(F, sim.State.State);
        }

        sim.AdvanceBy(1);
        Assert.Equal(F, sim.State.State);
        Assert.Empty(sim.Aggregate.Devices);
    }

    [Fact]
    public void S42_SetPresenceFromSyncingKeepsStatus()
    {
        var sim = NewSim();
        sim.SetState("dev-1", U, Here);

        sim.StartSyncing("dev-1", O);

        Assert.Equal(O, sim.State.State);
        Assert.Equal(Here, sim.State.StatusMsg);
    }

    [Fact]
    public void S43_SetPresenceFromSyncingKeepsBusy()
    {
        const string Busy = "I'm busy!";
        var sim = NewSim();
        sim.SetState("dev-1", B, Busy);

        var sync = sim.StartSyncing("dev-1", O);
        Assert.Equal(B, sim.State.State);
        Assert.Equal(B, sim.Aggregate.FindDevice("dev-1")!.Value.State);
        Assert.False(sync.Notify);

        sim.AdvanceTo(T0 + 300_001);
        Assert.Equal(B, sim.State.State);
        sim.AdvanceTo(T0 + 310_000);
        Assert.Equal(B, sim.State.State);
        Assert.Equal(Busy, sim.State.StatusMsg);

        sim.SetState("dev-1", O, Busy);
        Assert.Equal(O, sim.State.State);
        Assert.Equal(Busy, sim.State.StatusMsg);
    }

    [Fact]
    public void S44_UntrackedDoesNotIdle_ModuleUpdateStaysOnline()
    {
        var sim = NewSim(PresenceMode.Untracked);

        var t = sim.Apply((a, now) => PresenceOperations.SetPresenceFromModule(a, O, null, now, sim.Timings, sim.Mode));

        Assert.True(t.Notify);
        Assert.True(t.Forced);
        Assert.Empty(t.Timers);
        Assert.Null(t.NextWakeupAt);
        Assert.Equal(O, sim.State.State);

        sim.AdvanceBy(10L * 24 * 3_600_000);
        sim.Apply((a, now) => PresenceOperations.HandleTimer(a, now, sim.Timings, sim.Mode));
        Assert.Equal(O, sim.State.State);
        Assert.Equal(0, sim.TimerFirings);

        // Client input is ignored in untracked mode.
        Assert.True(sim.SetState("dev-1", U).IsNoOp);
        Assert.True(sim.StartSyncing("dev-1").IsNoOp);
        Assert.Equal(O, sim.State.State);
    }
}
