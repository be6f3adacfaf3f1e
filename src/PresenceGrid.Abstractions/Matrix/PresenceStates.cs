using System.Diagnostics.CodeAnalysis;

namespace PresenceGrid.Matrix;

/// <summary>Wire strings and parsing for <see cref="PresenceState"/>.</summary>
public static class PresenceStates
{
    /// <summary>Wire string of <see cref="PresenceState.Online"/>.</summary>
    public const string OnlineString = "online";

    /// <summary>Wire string of <see cref="PresenceState.Unavailable"/>.</summary>
    public const string UnavailableString = "unavailable";

    /// <summary>Wire string of <see cref="PresenceState.Offline"/>.</summary>
    public const string OfflineString = "offline";

    /// <summary>Wire string of <see cref="PresenceState.Busy"/> (MSC3026, unstable prefix).</summary>
    public const string BusyString = "org.matrix.msc3026.busy";

    /// <summary>Returns the wire string of a presence value.</summary>
    /// <param name="state">The presence value.</param>
    /// <returns>The string used in <c>m.presence</c> content and requests.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined <see cref="PresenceState"/>.</exception>
    public static string ToWireString(PresenceState state) => state switch
    {
        PresenceState.Online => OnlineString,
        PresenceState.Unavailable => UnavailableString,
        PresenceState.Offline => OfflineString,
        PresenceState.Busy => BusyString,
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "Unknown presence state."),
    };

    /// <summary>
    /// Parses a presence value as a client may set it (PUT <c>/presence/{userId}/status</c>, Synapse's
    /// <c>VALID_PRESENCE</c>). Matching is exact and case-sensitive; busy is accepted only when <paramref name="busyEnabled"/>.
    /// </summary>
    /// <param name="value">The wire string.</param>
    /// <param name="busyEnabled">Whether <c>experimental_features.msc3026_enabled</c> is on.</param>
    /// <param name="state">The parsed value when the result is <see langword="true"/>.</param>
    /// <returns><see langword="true"/> when the value is accepted.</returns>
    public static bool TryParse([NotNullWhen(true)] string? value, bool busyEnabled, out PresenceState state)
    {
        switch (value)
        {
            case OnlineString:
                state = PresenceState.Online;
                return true;
            case UnavailableString:
                state = PresenceState.Unavailable;
                return true;
            case OfflineString:
                state = PresenceState.Offline;
                return true;
            case BusyString when busyEnabled:
                state = PresenceState.Busy;
                return true;
            default:
                state = PresenceState.Offline;
                return false;
        }
    }

    /// <summary>
    /// Parses the <c>/sync?set_presence=</c> query parameter, which accepts only <c>online</c>, <c>offline</c> and
    /// <c>unavailable</c> (never busy, whatever the configuration).
    /// </summary>
    /// <param name="value">The query value.</param>
    /// <param name="state">The parsed value when the result is <see langword="true"/>.</param>
    /// <returns><see langword="true"/> when the value is accepted.</returns>
    public static bool TryParseSetPresence([NotNullWhen(true)] string? value, out PresenceState state) =>
        TryParse(value, busyEnabled: false, out state);
}
