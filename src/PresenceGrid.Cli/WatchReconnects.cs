using Microsoft.Extensions.Logging;
using PresenceGrid.Client;

namespace PresenceGrid.Cli;

/// <summary>
/// <c>pgrid watch</c>'s view of the SDK's reconnections: it says on <paramref name="output"/> that the watch is retrying
/// (the SDK backs off, doubling the delay after each failed try), and gives up (calls <paramref name="giveUp"/>) once no
/// silo has been reachable for <paramref name="giveUpAfter"/>, unless that is <see langword="null"/> (<c>--forever</c>).
/// It receives them as the SDK's logger: the SDK logs each reconnection as event 6003, <c>WatchReconnecting</c>, with
/// its <c>Reason</c>, <c>Delay</c> and the failure.
/// </summary>
/// <param name="time">The clock that measures how long no silo has been reachable.</param>
/// <param name="giveUpAfter">How long to retry while no silo is reachable; <see langword="null"/> to retry forever.</param>
/// <param name="output">Where the retries are reported.</param>
/// <param name="giveUp">Stops the watch.</param>
internal sealed class WatchReconnects(TimeProvider time, TimeSpan? giveUpAfter, TextWriter output, Action giveUp) : ILogger<PresenceGridClient>
{
    private const int WatchReconnectingEventId = 6003;

    // When the current run of failed connection attempts began (none while connected).
    private long? _unreachableSince;

    /// <summary>Whether the watch gave up.</summary>
    public bool GaveUp { get; private set; }

    /// <summary>A batch arrived: the silo is reachable.</summary>
    public void Received() => _unreachableSince = null;

    /// <summary>The SDK is about to wait <paramref name="delay"/> and reconnect.</summary>
    /// <param name="reason">Why, in the SDK's words.</param>
    /// <param name="delay">The backoff before the next try.</param>
    /// <param name="failure">What failed: <see cref="PresenceGridUnavailableException"/> when no silo could be reached.</param>
    public void Reconnecting(string reason, TimeSpan delay, Exception? failure)
    {
        if (failure is not PresenceGridUnavailableException unreachable)
        {
            // Connected, then the stream ended or broke: a new run of attempts begins.
            _unreachableSince = null;
            output.WriteLine($"watch: {reason}; reconnecting in {Seconds(delay)}.");
            return;
        }

        long now = time.GetTimestamp();
        _unreachableSince ??= now;
        TimeSpan unreachableFor = time.GetElapsedTime(_unreachableSince.Value, now);
        string why = unreachable.InnerExceptions.Count > 0 ? unreachable.InnerExceptions[0].Message : unreachable.Error;
        if (giveUpAfter is { } limit && unreachableFor + delay > limit)
        {
            GaveUp = true;
            output.WriteLine($"watch: giving up after {Seconds(unreachableFor)} without a reachable silo ({why}): the next try would pass "
                + $"--give-up-after {Seconds(limit)}; --forever retries without limit.");
            giveUp();
            return;
        }

        string until = giveUpAfter is { } l ? $"giving up after {Seconds(l)}" : "--forever";
        output.WriteLine($"watch: no silo reachable ({why}); retrying in {Seconds(delay)} (backoff: the delay doubles after each failed try; {until}).");
    }

    /// <inheritdoc />
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    /// <inheritdoc />
    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

    /// <inheritdoc />
    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (eventId.Id != WatchReconnectingEventId || state is not IReadOnlyList<KeyValuePair<string, object?>> fields)
        {
            return;
        }

        string reason = fields.FirstOrDefault(f => f.Key == "Reason").Value as string ?? "interrupted";
        TimeSpan delay = fields.FirstOrDefault(f => f.Key == "Delay").Value is TimeSpan d ? d : TimeSpan.Zero;
        Reconnecting(reason, delay, exception);
    }

    private static string Seconds(TimeSpan span) => $"{span.TotalSeconds:0.##} s";
}
