namespace PresenceGrid.Presence;

/// <summary>
/// One user's <c>rc_presence</c> token buckets. Synapse has two <c>Ratelimiter</c>s with the same settings: one in
/// <c>PUT /presence/{userId}/status</c> and one in <c>/sync</c>, so a sync never uses up a PUT's token or the other way
/// round. Every sync request costs a token of the sync bucket, whether or not it changes presence.
/// </summary>
/// <remarks>Both buckets refill from one timestamp (refilling one bucket in two steps gives what one step gives, burst
/// cap included), so the pair costs two floats and one long in a user grain. A bucket holds a few tokens at most (the
/// burst): float's precision is plenty.</remarks>
internal struct PresenceRateLimits
{
    private float _put;
    private float _sync;
    private long _at;

    /// <summary>Full buckets at <paramref name="now"/> (a user's first request is never limited).</summary>
    /// <param name="now">Current time, ms.</param>
    /// <param name="timings">The limit's settings.</param>
    /// <returns>The buckets.</returns>
    public static PresenceRateLimits Full(long now, PresenceTimings timings)
    {
        ArgumentNullException.ThrowIfNull(timings);
        float burst = Burst(timings);
        return new PresenceRateLimits { _put = burst, _sync = burst, _at = now };
    }

    /// <summary>Takes a token of the PUT bucket.</summary>
    /// <param name="now">Current time, ms.</param>
    /// <param name="timings">The limit's settings.</param>
    /// <returns>0 when allowed (a token was taken), else the ms until a token is available (nothing taken).</returns>
    public long TakePut(long now, PresenceTimings timings)
    {
        Refill(now, timings);
        return Take(ref _put, timings.RatelimitPerSecond);
    }

    /// <summary>Takes a token of the sync bucket (one per sync request).</summary>
    /// <param name="now">Current time, ms.</param>
    /// <param name="timings">The limit's settings.</param>
    /// <returns>0 when allowed (a token was taken), else the ms until a token is available (nothing taken).</returns>
    public long TakeSync(long now, PresenceTimings timings)
    {
        Refill(now, timings);
        return Take(ref _sync, timings.RatelimitPerSecond);
    }

    private static float Burst(PresenceTimings timings) => Math.Max(1, timings.RatelimitBurstCount);

    private static long Take(ref float tokens, double perSecond)
    {
        if (perSecond <= 0)
        {
            return 0;
        }

        if (tokens >= 1)
        {
            tokens -= 1;
            return 0;
        }

        return (long)Math.Ceiling((1 - tokens) / perSecond * 1000);
    }

    private void Refill(long now, PresenceTimings timings)
    {
        ArgumentNullException.ThrowIfNull(timings);
        double added = (now - _at) / 1000.0 * timings.RatelimitPerSecond;
        float burst = Burst(timings);
        _put = (float)Math.Min(burst, _put + added);
        _sync = (float)Math.Min(burst, _sync + added);
        _at = now;
    }
}
