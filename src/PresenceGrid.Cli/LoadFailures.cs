using System.Collections.Concurrent;
using PresenceGrid.Client;

namespace PresenceGrid.Cli;

/// <summary>
/// The requests of a <c>pgrid load</c> run that failed, counted by <c>errcode</c> with the first error of each, so that
/// a run that gets nothing but failures says why (a wrong <c>--server</c>, a missing token).
/// </summary>
internal sealed class LoadFailures
{
    private readonly ConcurrentDictionary<string, (long Count, string First)> _byErrCode = new(StringComparer.Ordinal);

    /// <summary>How many requests failed.</summary>
    public long Count => _byErrCode.Values.Sum(v => v.Count);

    /// <summary>Counts one failure.</summary>
    /// <param name="exception">The failure.</param>
    public void Add(PresenceGridApiException exception) =>
        _byErrCode.AddOrUpdate(exception.ErrCode, static (_, e) => (1, e.Error), static (_, seen, _) => (seen.Count + 1, seen.First), exception);

    /// <summary>Forgets every failure (the warm-up's).</summary>
    public void Clear() => _byErrCode.Clear();

    /// <summary>One line per errcode, the most frequent first: the count and the first error.</summary>
    /// <returns>The lines; none when nothing failed.</returns>
    public IEnumerable<string> Describe() =>
        _byErrCode.OrderByDescending(e => e.Value.Count).ThenBy(e => e.Key, StringComparer.Ordinal)
            .Select(e => $"  {e.Key} × {e.Value.Count:N0}, the first: {e.Value.First}");

    /// <summary>
    /// The hint for a run whose updates were mostly refused with 429: the silo's <c>rc_presence</c> limits how often each
    /// user may change presence, which a load test must lift.
    /// </summary>
    /// <param name="limited">Updates refused with 429.</param>
    /// <param name="attempts">Every update sent.</param>
    /// <returns>The hint, or <see langword="null"/> when at most half were refused.</returns>
    public static string? RateLimitHint(long limited, long attempts) =>
        attempts > 0 && limited * 2 > attempts
            ? $"{100.0 * limited / attempts:F0}% of the updates were refused with 429: the silo's rc_presence limits how often each user may change "
                + "presence (rc_presence.per_second and burst_count; Synapse's default lets a user change once every 10 s); "
                + "set rc_presence.per_second: 0 in the silo's configuration for load tests."
            : null;
}
