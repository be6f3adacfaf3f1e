using System.Globalization;
using PresenceGrid.Client;

namespace PresenceGrid.Cli;

/// <summary>What a watch stream's presence event is to <c>pgrid load</c>'s latency accounting.</summary>
internal enum LoadDelivery
{
    /// <summary>Not a change that <c>pgrid load</c> sent (no <c>load:</c> status message).</summary>
    NotLoad,

    /// <summary>The first delivery of a sent change, in the state that was sent: the one that is timed.</summary>
    First,

    /// <summary>The same sent change delivered again in the state already timed (the silo sent the user's state again): not timed.</summary>
    Repeat,

    /// <summary>
    /// A state the load did not send, carrying the stamp of the last change that it did: the silo's timers moved the
    /// user on (offline after <c>sync_online_timeout</c>, unavailable after <c>idle_timeout</c>). Not timed.
    /// </summary>
    TimerTransition,
}

/// <summary>
/// The status message <c>pgrid load</c> sends with each change (<c>load:TICKS:STATE</c>: when it was sent and the state
/// sent), and the accounting of one watch stream: each sent change is timed once, at its first delivery in the state
/// that was sent. The silo delivers a user's state again with the same status message when a timer changes it (a user
/// without a syncing device goes offline after <c>sync_online_timeout</c>); timing those would report a 30 s
/// "delivery" of a change that arrived within milliseconds.
/// </summary>
internal sealed class LoadChanges
{
    private const string Prefix = "load:";

    // Per sender, the stamp of the change last timed on this stream.
    private readonly Dictionary<string, long> _lastTimed = new(StringComparer.Ordinal);

    /// <summary>The status message of a change sent at <paramref name="sentTicks"/> (UTC <see cref="DateTime.Ticks"/>) to <paramref name="presence"/>.</summary>
    /// <param name="sentTicks">When the change is sent.</param>
    /// <param name="presence">The state sent.</param>
    /// <returns>The status message.</returns>
    public static string StatusFor(long sentTicks, PresenceState presence) =>
        string.Create(CultureInfo.InvariantCulture, $"{Prefix}{sentTicks}:{presence.Value}");

    /// <summary>Classifies one event of this stream; for <see cref="LoadDelivery.First"/>, <paramref name="sentTicks"/> is when the change was sent.</summary>
    /// <param name="sender">The user whose presence the event carries.</param>
    /// <param name="content">The event's content.</param>
    /// <param name="sentTicks">When the change the event carries was sent (0 when it is not a load change).</param>
    /// <returns>What the event is to the accounting.</returns>
    public LoadDelivery Classify(string sender, PresenceContent content, out long sentTicks)
    {
        if (!TryParse(content.StatusMsg, out sentTicks, out string? sentState))
        {
            sentTicks = 0;
            return LoadDelivery.NotLoad;
        }

        if (!string.Equals(sentState, content.Presence.Value, StringComparison.Ordinal))
        {
            return LoadDelivery.TimerTransition;
        }

        if (_lastTimed.TryGetValue(sender, out long last) && last == sentTicks)
        {
            return LoadDelivery.Repeat;
        }

        _lastTimed[sender] = sentTicks;
        return LoadDelivery.First;
    }

    private static bool TryParse(string? status, out long sentTicks, out string? sentState)
    {
        sentTicks = 0;
        sentState = null;
        if (status is null || !status.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        ReadOnlySpan<char> rest = status.AsSpan(Prefix.Length);
        int colon = rest.IndexOf(':');
        if (colon <= 0 || !long.TryParse(rest[..colon], NumberStyles.None, CultureInfo.InvariantCulture, out sentTicks))
        {
            return false;
        }

        sentState = rest[(colon + 1)..].ToString();
        return sentState.Length > 0;
    }
}
