using System.Text.Json.Serialization;
using PresenceGrid.Client.Internal;

namespace PresenceGrid.Client;

/// <summary>
/// A Matrix presence state as carried on the wire (<c>"online"</c>, <c>"unavailable"</c>, <c>"offline"</c>,
/// <c>"org.matrix.msc3026.busy"</c>). Unknown values sent by a newer server are kept as they are instead of failing.
/// </summary>
[JsonConverter(typeof(PresenceStateJsonConverter))]
public readonly struct PresenceState : IEquatable<PresenceState>
{
    private readonly string? _value;

    /// <summary>Creates a presence state from its wire value.</summary>
    /// <param name="value">The wire value, for example <c>"online"</c>.</param>
    /// <exception cref="ArgumentException"><paramref name="value"/> is null, empty or white space.</exception>
    public PresenceState(string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(value);
        _value = value;
    }

    /// <summary>The user is online (<c>"online"</c>).</summary>
    public static PresenceState Online { get; } = new("online");

    /// <summary>The user is idle or away (<c>"unavailable"</c>).</summary>
    public static PresenceState Unavailable { get; } = new("unavailable");

    /// <summary>The user is offline (<c>"offline"</c>).</summary>
    public static PresenceState Offline { get; } = new("offline");

    /// <summary>The user is busy (MSC3026, <c>"org.matrix.msc3026.busy"</c>).</summary>
    public static PresenceState Busy { get; } = new("org.matrix.msc3026.busy");

    /// <summary>The wire value; <c>"offline"</c> for a default-initialized instance.</summary>
    public string Value => _value ?? "offline";

    /// <summary>Whether two presence states have the same wire value (ordinal comparison).</summary>
    /// <param name="left">The first state.</param>
    /// <param name="right">The second state.</param>
    /// <returns><see langword="true"/> when the wire values are equal.</returns>
    public static bool operator ==(PresenceState left, PresenceState right) => left.Equals(right);

    /// <summary>Whether two presence states have different wire values (ordinal comparison).</summary>
    /// <param name="left">The first state.</param>
    /// <param name="right">The second state.</param>
    /// <returns><see langword="true"/> when the wire values differ.</returns>
    public static bool operator !=(PresenceState left, PresenceState right) => !left.Equals(right);

    /// <inheritdoc/>
    public bool Equals(PresenceState other) => string.Equals(Value, other.Value, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is PresenceState other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Value);

    /// <summary>Returns the wire value.</summary>
    /// <returns>The wire value.</returns>
    public override string ToString() => Value;
}
