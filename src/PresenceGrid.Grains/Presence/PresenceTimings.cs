using System.Globalization;

namespace PresenceGrid.Presence;

/// <summary>
/// Presence timers and limits (reference §2.1). Defaults are exactly Synapse's. Durations are <see cref="TimeSpan"/>s;
/// the state machine works in whole milliseconds through the <c>...Ms</c> accessors.
/// </summary>
public sealed class PresenceTimings
{
    /// <summary>Synapse's defaults. Do not mutate the shared instance; create a new one to customise.</summary>
    public static PresenceTimings Default { get; } = new();

    /// <summary><c>presence.last_active_granularity</c> (60 s): window in which a user counts as currently active and in
    /// which <c>last_active</c> bumps are not notified. Must be &gt; 0.</summary>
    public TimeSpan LastActiveGranularity { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary><c>presence.sync_online_timeout</c> (30 s): a non-syncing device with no sync or activity for this long is removed. Must be &gt; 0.</summary>
    public TimeSpan SyncOnlineTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary><c>presence.idle_timeout</c> (5 min): an online device inactive this long becomes unavailable. Must be &gt; granularity.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary><c>BUSY_ONLINE_TIMEOUT</c> (1 h): removal timeout for a busy device that is not syncing.</summary>
    public TimeSpan BusyOnlineTimeout { get; set; } = TimeSpan.FromHours(1);

    /// <summary><c>FEDERATION_TIMEOUT</c> (30 min): a remote user goes offline when their server sends nothing for this long.</summary>
    public TimeSpan FederationTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary><c>FEDERATION_PING_INTERVAL</c> (25 min): unchanged local state is re-sent to remote servers at this interval.</summary>
    public TimeSpan FederationPingInterval { get; set; } = TimeSpan.FromMinutes(25);

    /// <summary><c>EXTERNAL_PROCESS_EXPIRY</c> (5 min): a sync worker silent this long has its syncing set discarded.</summary>
    public TimeSpan ExternalProcessExpiry { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary><c>UPDATE_SYNCING_USERS</c> (10 s): a sync worker debounces "stopped syncing" by this long; its loop period.</summary>
    public TimeSpan UpdateSyncingUsers { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Wheel-timer bucket size (5 s) in Synapse. PresenceGrid schedules exact wake-ups instead; kept for reference.</summary>
    public TimeSpan WheelTimerBucket { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Period of Synapse's timeout loop (5 s).</summary>
    public TimeSpan TimeoutLoopPeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>First run of Synapse's timeout loop after the writer starts (about 35 s): a reconnect grace for clients.</summary>
    public TimeSpan TimeoutLoopFirstRun { get; set; } = TimeSpan.FromSeconds(35);

    /// <summary>Period of the loop that persists changes that were not notified (60 s).</summary>
    public TimeSpan PersistLoopPeriod { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>First run of the persist loop after start (about 2 min).</summary>
    public TimeSpan PersistLoopFirstRun { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Join filter (7 days): offline states older than this and without status are not sent to newly joined servers.</summary>
    public TimeSpan JoinOfflineStateMaxAge { get; set; } = TimeSpan.FromDays(7);

    /// <summary><c>rc_presence.per_user.per_second</c> (0.1/s), keyed by user id.</summary>
    public double RatelimitPerSecond { get; set; } = 0.1;

    /// <summary><c>rc_presence.per_user.burst_count</c> (1).</summary>
    public int RatelimitBurstCount { get; set; } = 1;

    /// <summary>
    /// PresenceGrid only (edge-triggered syncing): a device that started syncing counts as syncing until it stops or
    /// until this long after its last start or keep-alive. Default = <see cref="ExternalProcessExpiry"/> (5 min), the
    /// Synapse analogue (a silent sync worker's syncs are discarded after that long).
    /// </summary>
    public TimeSpan SyncKeepAliveExpiry { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Worker relay throttle interval: 5/6 · min(sync_online_timeout, granularity) (25 s by default).</summary>
    public TimeSpan WorkerRelayInterval =>
        TimeSpan.FromMilliseconds(Math.Min(SyncOnlineTimeoutMs, LastActiveGranularityMs) * 5 / 6);

    /// <summary><see cref="LastActiveGranularity"/> in ms.</summary>
    public long LastActiveGranularityMs => ToMs(LastActiveGranularity);

    /// <summary><see cref="SyncOnlineTimeout"/> in ms.</summary>
    public long SyncOnlineTimeoutMs => ToMs(SyncOnlineTimeout);

    /// <summary><see cref="IdleTimeout"/> in ms.</summary>
    public long IdleTimeoutMs => ToMs(IdleTimeout);

    /// <summary><see cref="BusyOnlineTimeout"/> in ms.</summary>
    public long BusyOnlineTimeoutMs => ToMs(BusyOnlineTimeout);

    /// <summary><see cref="FederationTimeout"/> in ms.</summary>
    public long FederationTimeoutMs => ToMs(FederationTimeout);

    /// <summary><see cref="FederationPingInterval"/> in ms.</summary>
    public long FederationPingIntervalMs => ToMs(FederationPingInterval);

    /// <summary><see cref="SyncKeepAliveExpiry"/> in ms.</summary>
    public long SyncKeepAliveExpiryMs => ToMs(SyncKeepAliveExpiry);

    /// <summary>
    /// Checks Synapse's config constraints: granularity &gt; 0, sync_online_timeout &gt; 0, idle_timeout &gt; granularity,
    /// and positive values for the other timers.
    /// </summary>
    /// <exception cref="InvalidOperationException">A constraint is violated; the message names the setting.</exception>
    public void Validate()
    {
        if (LastActiveGranularity <= TimeSpan.Zero)
        {
            throw new InvalidOperationException("presence.last_active_granularity must be greater than 0.");
        }

        if (SyncOnlineTimeout <= TimeSpan.Zero)
        {
            throw new InvalidOperationException("presence.sync_online_timeout must be greater than 0.");
        }

        if (IdleTimeout <= LastActiveGranularity)
        {
            throw new InvalidOperationException("presence.idle_timeout must be greater than presence.last_active_granularity.");
        }

        if (BusyOnlineTimeout <= TimeSpan.Zero || FederationTimeout <= TimeSpan.Zero
            || FederationPingInterval <= TimeSpan.Zero || SyncKeepAliveExpiry <= TimeSpan.Zero)
        {
            throw new InvalidOperationException("Presence timeouts must be greater than 0.");
        }
    }

    /// <summary>
    /// Parses a duration the way Synapse's <c>Config.parse_duration</c> does: a bare integer is milliseconds; a suffix
    /// <c>s</c>, <c>m</c>, <c>h</c>, <c>d</c>, <c>w</c> or <c>y</c> (365 days) multiplies the integer before it.
    /// </summary>
    /// <param name="value">For example <c>"2m"</c>, <c>"30s"</c> or <c>"1500"</c>.</param>
    /// <returns>The duration.</returns>
    /// <exception cref="FormatException">The value is not a valid duration.</exception>
    public static TimeSpan ParseDuration(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        long unitMs = 1;
        var digits = value.AsSpan();
        if (digits.Length > 0 && !char.IsAsciiDigit(digits[^1]))
        {
            unitMs = digits[^1] switch
            {
                's' => 1_000L,
                'm' => 60_000L,
                'h' => 3_600_000L,
                'd' => 86_400_000L,
                'w' => 7 * 86_400_000L,
                'y' => 365 * 86_400_000L,
                _ => throw new FormatException($"Invalid duration '{value}'."),
            };
            digits = digits[..^1];
        }

        if (digits.IsEmpty || !long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
        {
            throw new FormatException($"Invalid duration '{value}'.");
        }

        return TimeSpan.FromMilliseconds(checked(amount * unitMs));
    }

    private static long ToMs(TimeSpan value) => (long)value.TotalMilliseconds;
}
