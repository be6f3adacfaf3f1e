namespace PresenceGrid.Client.Orleans;

/// <summary>Options of <see cref="OrleansPresenceGridClient"/>: its watch streams (the connection is the Orleans client's).</summary>
public sealed class OrleansPresenceGridClientOptions
{
    /// <summary>How long each long-poll of a watch may wait for events (default 30 s, as the HTTP watch's server side).</summary>
    public TimeSpan WatchPollTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The first back-off after the gateway could not be reached during a watch (default 250 ms), doubling per failure.</summary>
    public TimeSpan WatchReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The largest back-off between watch retries (default 5 s).</summary>
    public TimeSpan WatchMaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often a watch with a device renews the device's syncing lease (default 1 minute; the silo's lease is 5 minutes).</summary>
    public TimeSpan SyncKeepAliveInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>What is wrong with these options, one message per bad field; empty when valid.</summary>
    /// <returns>The failures.</returns>
    public IReadOnlyList<string> Validate()
    {
        var failures = new List<string>();
        Positive(failures, nameof(WatchPollTimeout), WatchPollTimeout);
        Positive(failures, nameof(WatchReconnectDelay), WatchReconnectDelay);
        Positive(failures, nameof(SyncKeepAliveInterval), SyncKeepAliveInterval);
        if (WatchMaxReconnectDelay < WatchReconnectDelay)
        {
            failures.Add($"{nameof(WatchMaxReconnectDelay)} must be at least {nameof(WatchReconnectDelay)}; got {WatchMaxReconnectDelay}.");
        }

        return failures;
    }

    private static void Positive(List<string> failures, string name, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            failures.Add($"{name} must be positive; got {value}.");
        }
    }
}
