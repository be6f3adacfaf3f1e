using PresenceGrid.Matrix;
using static PresenceGrid.Presence.Tests.TestIds;

namespace PresenceGrid.Presence.Tests;

public sealed class RestartAndConfigScenarioTests
{
    private static PresenceTimings CustomTimings() => new()
    {
        LastActiveGranularity = PresenceTimings.ParseDuration("2m"),
        SyncOnlineTimeout = PresenceTimings.ParseDuration("3m"),
        IdleTimeout = PresenceTimings.ParseDuration("20m"),
    };

    private static PresenceSim Restored(PresenceState state, PresenceTimings? timings = null)
    {
        var stored = UserPresenceState.Default(Foo) with
        {
            State = state,
            LastActiveTs = T0,
            LastUserSyncTs = T0,
            LastFederationUpdateTs = T0,
        };
        return new PresenceSim(UserPresenceAggregate.Restore(stored, isMine: true), T0, timings);
    }

    [Fact]
    public void S24_RestoredPresenceIdles_OfflineAfterSyncTimeout()
    {
        var sim = Restored(PresenceState.Online);
        Assert.Equal([new DevicePresence(null, PresenceState.Online, T0, T0)], sim.Aggregate.Devices.ToArray());
        Assert.Equal(T0 + 30_001, sim.NextWakeup);

        sim.AdvanceTo(T0 + 30_000);
        Assert.Equal(PresenceState.Online, sim.State.State);

        sim.AdvanceTo(T0 + 30_001);
        Assert.Equal(PresenceState.Offline, sim.State.State);
        Assert.Empty(sim.Aggregate.Devices);
        var last = sim.Transitions[^1];
        Assert.True(last.Notify);
        Assert.Equal(NotifyReason.StateChange, last.Reason);
    }

    [Theory]
    [InlineData(PresenceState.Busy, PresenceState.Busy, PresenceState.Busy)]
    [InlineData(PresenceState.Online, PresenceState.Online, PresenceState.Online)]
    [InlineData(PresenceState.Unavailable, PresenceState.Online, PresenceState.Unavailable)]
    [InlineData(PresenceState.Offline, PresenceState.Online, PresenceState.Offline)]
    public void S25_RestoredPresenceOnlineAfterSync(PresenceState syncWith, PresenceState immediately, PresenceState afterPseudoDeviceGone)
    {
        var sim = Restored(PresenceState.Online);

        sim.AdvanceTo(T0 + 15_000);
        sim.StartSyncing("dev-1", syncWith);
        Assert.Equal(immediately, sim.State.State);

        sim.AdvanceTo(T0 + 30_000);
        Assert.Equal(immediately, sim.State.State);

        sim.AdvanceTo(T0 + 30_001);
        Assert.Equal(afterPseudoDeviceGone, sim.State.State);
        Assert.Null(sim.Aggregate.FindDevice(null));
    }

    [Theory]
    [InlineData("2m", 120_000)]
    [InlineData("3m", 180_000)]
    [InlineData("20m", 1_200_000)]
    [InlineData("30s", 30_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("1d", 86_400_000)]
    [InlineData("1w", 604_800_000)]
    [InlineData("1y", 31_536_000_000)]
    [InlineData("1500", 1_500)]
    public void S28_ConfigParsing_Durations(string text, long expectedMs)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), PresenceTimings.ParseDuration(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("m")]
    [InlineData("2x")]
    [InlineData("-2m")]
    [InlineData("2.5m")]
    [InlineData(" 2m")]
    public void S28_ConfigParsing_InvalidDurations(string text)
    {
        Assert.Throws<FormatException>(() => PresenceTimings.ParseDuration(text));
    }

    [Fact]
    public void S28_ConfigParsing_CustomTimingsApplied()
    {
        var timings = CustomTimings();
        timings.Validate();
        Assert.Equal(120_000, timings.LastActiveGranularityMs);
        Assert.Equal(180_000, timings.SyncOnlineTimeoutMs);
        Assert.Equal(1_200_000, timings.IdleTimeoutMs);
    }

    [Fact]
    public void S29_SyncOnlineTimeout_Custom_OfflineThreeMinutesAfterSyncEnds()
    {
        var sim = PresenceSim.Local("@foo:bar", T0, CustomTimings());
        sim.StartSyncing("dev-1");
        sim.StopSyncing("dev-1");

        sim.AdvanceTo(T0 + 60_000);
        Assert.Equal(PresenceState.Online, sim.State.State);

        sim.AdvanceTo(T0 + 180_000);
        Assert.Equal(PresenceState.Online, sim.State.State);

        sim.AdvanceTo(T0 + 180_001);
        Assert.Equal(PresenceState.Offline, sim.State.State);

        sim.AdvanceTo(T0 + 240_000);
        Assert.Equal(PresenceState.Offline, sim.State.State);
    }

    [Fact]
    public void S30_IdleTimeout_Custom_SyncLeftOpen_UnavailableAfterTwentyMinutes()
    {
        var sim = PresenceSim.Local("@foo:bar", T0, CustomTimings());
        sim.StartSyncing("dev-1");

        sim.AdvanceWithKeepAlives(600_000, 60_000, "dev-1");
        Assert.Equal(PresenceState.Online, sim.State.State);

        sim.AdvanceWithKeepAlives(600_000, 60_000, "dev-1");
        Assert.Equal(T0 + 1_200_000, sim.Now);
        Assert.Equal(PresenceState.Online, sim.State.State);

        sim.AdvanceTo(T0 + 1_200_001);
        Assert.Equal(PresenceState.Unavailable, sim.State.State);

        sim.AdvanceWithKeepAlives(300_000, 60_000, "dev-1");
        Assert.Equal(PresenceState.Unavailable, sim.State.State);
        Assert.True(sim.Aggregate.IsSyncing("dev-1", sim.Now));
    }

    [Fact]
    public void S31_LastActiveGranularity_Custom_CurrentlyActiveForTwoMinutes()
    {
        var sim = PresenceSim.Local("@foo:bar", T0, CustomTimings());
        sim.StartSyncing("dev-1");
        sim.StopSyncing("dev-1");
        Assert.True(sim.State.CurrentlyActive);

        sim.AdvanceTo(T0 + 90_000);
        Assert.Equal(PresenceState.Online, sim.State.State);
        Assert.True(sim.State.CurrentlyActive);

        sim.AdvanceTo(T0 + 120_000);
        Assert.True(sim.State.CurrentlyActive);

        sim.AdvanceTo(T0 + 120_001);
        Assert.False(sim.State.CurrentlyActive);
        Assert.Equal(NotifyReason.CurrentlyActiveChange, sim.Transitions[^1].Reason);

        sim.AdvanceTo(T0 + 150_000);
        Assert.Equal(PresenceState.Online, sim.State.State);
        Assert.False(sim.State.CurrentlyActive);
    }
}
