namespace PresenceGrid.Presence.Tests;

public sealed class PresenceTimingsTests
{
    [Fact]
    public void Defaults_AreSynapses()
    {
        var t = new PresenceTimings();
        Assert.Equal(60_000, t.LastActiveGranularityMs);
        Assert.Equal(30_000, t.SyncOnlineTimeoutMs);
        Assert.Equal(300_000, t.IdleTimeoutMs);
        Assert.Equal(3_600_000, t.BusyOnlineTimeoutMs);
        Assert.Equal(1_800_000, t.FederationTimeoutMs);
        Assert.Equal(1_500_000, t.FederationPingIntervalMs);
        Assert.Equal(TimeSpan.FromMinutes(5), t.ExternalProcessExpiry);
        Assert.Equal(TimeSpan.FromSeconds(10), t.UpdateSyncingUsers);
        Assert.Equal(TimeSpan.FromSeconds(25), t.WorkerRelayInterval);
        Assert.Equal(TimeSpan.FromSeconds(5), t.WheelTimerBucket);
        Assert.Equal(TimeSpan.FromSeconds(5), t.TimeoutLoopPeriod);
        Assert.Equal(TimeSpan.FromSeconds(35), t.TimeoutLoopFirstRun);
        Assert.Equal(TimeSpan.FromSeconds(60), t.PersistLoopPeriod);
        Assert.Equal(TimeSpan.FromMinutes(2), t.PersistLoopFirstRun);
        Assert.Equal(TimeSpan.FromDays(7), t.JoinOfflineStateMaxAge);
        Assert.Equal(0.1, t.RatelimitPerSecond);
        Assert.Equal(1, t.RatelimitBurstCount);
        Assert.Equal(300_000, t.SyncKeepAliveExpiryMs);
        t.Validate();
    }

    [Fact]
    public void WorkerRelayInterval_ScalesWithConfig()
    {
        var t = new PresenceTimings { SyncOnlineTimeout = TimeSpan.FromSeconds(12) };
        Assert.Equal(TimeSpan.FromMilliseconds(10_000), t.WorkerRelayInterval);
    }

    [Fact]
    public void Validate_IdleMustExceedGranularity()
    {
        var t = new PresenceTimings { IdleTimeout = TimeSpan.FromSeconds(60) };
        var e = Assert.Throws<InvalidOperationException>(t.Validate);
        Assert.Contains("idle_timeout", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_GranularityAndSyncTimeoutMustBePositive()
    {
        Assert.Contains("last_active_granularity", Assert.Throws<InvalidOperationException>(new PresenceTimings { LastActiveGranularity = TimeSpan.Zero }.Validate).Message, StringComparison.Ordinal);
        Assert.Contains("sync_online_timeout", Assert.Throws<InvalidOperationException>(new PresenceTimings { SyncOnlineTimeout = TimeSpan.Zero }.Validate).Message, StringComparison.Ordinal);
    }
}
