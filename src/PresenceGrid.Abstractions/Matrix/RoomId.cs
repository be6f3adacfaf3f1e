using System.Diagnostics.CodeAnalysis;

namespace PresenceGrid.Matrix;

/// <summary>
/// A Matrix room id, <c>!opaque_id:server_name</c>.
/// </summary>
/// <remarks>
/// The opaque part runs up to the first <c>:</c>, must be non-empty and printable ASCII without space; the rest must be
/// a valid <see cref="ServerName"/>; the whole id is at most 255 bytes of UTF-8.
/// Room version 12 (MSC4291) room ids carry no server name (<c>!opaque</c>); they are accepted too and then
/// <see cref="Server"/> is <see langword="null"/>.
/// </remarks>
[System.Text.Json.Serialization.JsonConverter(typeof(RoomIdJsonConverter))]
public sealed class RoomId : IEquatable<RoomId>
{
    private readonly string _value;

    private RoomId(string value, string opaqueId, ServerName? server)
    {
        _value = value;
        OpaqueId = opaqueId;
        Server = server;
    }

    /// <summary>The opaque part between <c>!</c> and the first <c>:</c> (or the end).</summary>
    public string OpaqueId { get; }

    /// <summary>The server part, or <see langword="null"/> for room version 12+ ids that have none.</summary>
    public ServerName? Server { get; }

    /// <summary>Parses a room id, returning <see langword="false"/> when it is invalid.</summary>
    /// <param name="value">The candidate room id.</param>
    /// <param name="roomId">The parsed id when the result is <see langword="true"/>.</param>
    /// <returns><see langword="true"/> when <paramref name="value"/> is a valid room id.</returns>
    public static bool TryParse(string? value, [NotNullWhen(true)] out RoomId? roomId)
    {
        roomId = null;
        if (Validate(value, out var opaque, out var server) is not null)
        {
            return false;
        }

        roomId = new RoomId(value!, opaque!, server);
        return true;
    }

    /// <summary>Parses a room id or throws.</summary>
    /// <param name="value">The candidate room id.</param>
    /// <param name="field">The field name reported in the exception (default <c>room_id</c>).</param>
    /// <returns>The parsed room id.</returns>
    /// <exception cref="MatrixValidationException">The id is invalid (errcode <c>M_INVALID_PARAM</c>).</exception>
    public static RoomId Parse(string value, string field = "room_id")
    {
        var error = Validate(value, out var opaque, out var server);
        if (error is not null)
        {
            throw new MatrixValidationException(MatrixErrorCodes.InvalidParam, field, $"Invalid {field}: {error}.");
        }

        return new RoomId(value, opaque!, server);
    }

    private static string? Validate(string? value, out string? opaque, out ServerName? server)
    {
        opaque = null;
        server = null;
        if (string.IsNullOrEmpty(value))
        {
            return "room id is empty";
        }

        if (MatrixIdentifier.ExceedsLength(value))
        {
            return "room id is longer than 255 bytes";
        }

        if (value[0] != '!')
        {
            return "room id must start with '!'";
        }

        var colon = value.IndexOf(':', 1);
        var opaqueEnd = colon < 0 ? value.Length : colon;
        if (opaqueEnd == 1)
        {
            return "room id opaque part is empty";
        }

        var opaqueSpan = value.AsSpan(1, opaqueEnd - 1);
        if (!MatrixIdentifier.IsPrintableAsciiWithoutSpace(opaqueSpan))
        {
            return "room id contains whitespace, control or non-ASCII characters";
        }

        if (colon >= 0)
        {
            if (!ServerName.TryParse(value[(colon + 1)..], out server))
            {
                return "room id has an invalid server name";
            }
        }

        opaque = opaqueSpan.ToString();
        return null;
    }

    /// <summary>Returns the id exactly as parsed.</summary>
    /// <returns>The original room id string.</returns>
    public override string ToString() => _value;

    /// <inheritdoc />
    public bool Equals(RoomId? other) => other is not null && string.Equals(_value, other._value, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as RoomId);

    /// <inheritdoc />
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(_value);

    /// <summary>Value equality.</summary>
    /// <param name="left">The first operand.</param>
    /// <param name="right">The second operand.</param>
    /// <returns><see langword="true"/> when both are equal or both are null.</returns>
    public static bool operator ==(RoomId? left, RoomId? right) => left is null ? right is null : left.Equals(right);

    /// <summary>Value inequality.</summary>
    /// <param name="left">The first operand.</param>
    /// <param name="right">The second operand.</param>
    /// <returns><see langword="true"/> when the operands differ.</returns>
    public static bool operator !=(RoomId? left, RoomId? right) => !(left == right);
}
