using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace PresenceGrid.Matrix;

/// <summary>
/// A Matrix user id (MXID), <c>@localpart:server_name</c>.
/// </summary>
/// <remarks>
/// Grammar (Matrix spec, appendices, "User Identifiers"), applied the way Synapse accepts ids:
/// <list type="bullet">
/// <item>the id starts with <c>@</c>; the localpart runs up to the first <c>:</c> and the rest is the server name;</item>
/// <item>the localpart is non-empty and uses the historical character set <c>%x21-39 / %x3B-7E</c>
/// (printable ASCII except <c>:</c> and space), so upper case and punctuation are accepted, whitespace and control
/// characters are not;</item>
/// <item>the server name is a valid <see cref="ServerName"/>;</item>
/// <item>the whole id is at most 255 bytes of UTF-8.</item>
/// </list>
/// Equality is ordinal on the original string; <see cref="ToString"/> returns that string.
/// </remarks>
[System.Text.Json.Serialization.JsonConverter(typeof(UserIdJsonConverter))]
public sealed class UserId : IEquatable<UserId>
{
    // Server names seen in user ids, shared: a grid holds many ids of few servers. Bounded, so ids
    // from many remote servers cannot grow it without limit (past the bound a name is not shared).
    private const int MaxSharedServerNames = 4096;
    private static readonly ConcurrentDictionary<string, ServerName> s_serverNames = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, ServerName>.AlternateLookup<ReadOnlySpan<char>> s_serverNamesBySpan =
        s_serverNames.GetAlternateLookup<ReadOnlySpan<char>>();
    private static int s_sharedServerNames; // the dictionary's size, without ConcurrentDictionary.Count taking every lock

    private readonly string _value;

    private UserId(string value, ServerName server)
    {
        _value = value;
        Server = server;
    }

    /// <summary>The part between <c>@</c> and the first <c>:</c> (a new string on each read).</summary>
    public string Localpart => _value[1.._value.IndexOf(':', 1)];

    /// <summary>The server part (the user's homeserver).</summary>
    public ServerName Server { get; }

    /// <summary>Parses a user id, returning <see langword="false"/> when it is invalid.</summary>
    /// <param name="value">The candidate MXID.</param>
    /// <param name="userId">The parsed id when the result is <see langword="true"/>.</param>
    /// <returns><see langword="true"/> when <paramref name="value"/> is a valid user id.</returns>
    public static bool TryParse(string? value, [NotNullWhen(true)] out UserId? userId)
    {
        userId = null;
        if (FindError(value, out var server) is not null)
        {
            return false;
        }

        userId = new UserId(value!, server!);
        return true;
    }

    /// <summary>Parses a user id or throws.</summary>
    /// <param name="value">The candidate MXID.</param>
    /// <param name="field">The field name reported in the exception (default <c>user_id</c>).</param>
    /// <returns>The parsed user id.</returns>
    /// <exception cref="MatrixValidationException">The id is invalid (errcode <c>M_INVALID_PARAM</c>).</exception>
    public static UserId Parse(string value, string field = "user_id") => new(value, Validate(value, field));

    /// <summary>
    /// Checks a user id the way <see cref="Parse"/> does, without creating a <see cref="UserId"/>: for a caller
    /// that needs only the valid string and its server (a request's hot path).
    /// </summary>
    /// <param name="value">The candidate MXID.</param>
    /// <param name="field">The field name reported in the exception (default <c>user_id</c>).</param>
    /// <returns>The id's server name (shared between ids of the same server, so nothing is allocated for a known server).</returns>
    /// <exception cref="MatrixValidationException">The id is invalid (errcode <c>M_INVALID_PARAM</c>).</exception>
    public static ServerName Validate(string value, string field = "user_id")
    {
        var error = FindError(value, out var server);
        if (error is not null)
        {
            throw new MatrixValidationException(MatrixErrorCodes.InvalidParam, field, $"Invalid {field}: {error}.");
        }

        return server!;
    }

    private static string? FindError(string? value, out ServerName? server)
    {
        server = null;
        if (string.IsNullOrEmpty(value))
        {
            return "user id is empty";
        }

        if (MatrixIdentifier.ExceedsLength(value))
        {
            return "user id is longer than 255 bytes";
        }

        if (value[0] != '@')
        {
            return "user id must start with '@'";
        }

        var colon = value.IndexOf(':', 1);
        if (colon < 0)
        {
            return "user id has no ':' separating localpart and server name";
        }

        if (colon == 1)
        {
            return "user id localpart is empty";
        }

        var local = value.AsSpan(1, colon - 1);
        if (!MatrixIdentifier.IsPrintableAsciiWithoutSpace(local))
        {
            return "user id localpart contains whitespace, control or non-ASCII characters";
        }

        if (s_serverNamesBySpan.TryGetValue(value.AsSpan(colon + 1), out server))
        {
            return null;
        }

        var serverPart = value[(colon + 1)..];
        var serverError = ServerName.TryValidate(serverPart, out var host, out var port);
        if (serverError is not null)
        {
            return serverError;
        }

        server = ServerName.Create(serverPart, host!, port);
        if (Volatile.Read(ref s_sharedServerNames) < MaxSharedServerNames)
        {
            ServerName shared = s_serverNames.GetOrAdd(serverPart, server);
            if (ReferenceEquals(shared, server))
            {
                Interlocked.Increment(ref s_sharedServerNames);
            }

            server = shared;
        }

        return null;
    }

    /// <summary>Returns the id exactly as parsed.</summary>
    /// <returns>The original MXID string.</returns>
    public override string ToString() => _value;

    /// <inheritdoc />
    public bool Equals(UserId? other) => other is not null && string.Equals(_value, other._value, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as UserId);

    /// <inheritdoc />
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(_value);

    /// <summary>Value equality.</summary>
    /// <param name="left">The first operand.</param>
    /// <param name="right">The second operand.</param>
    /// <returns><see langword="true"/> when both are equal or both are null.</returns>
    public static bool operator ==(UserId? left, UserId? right) => left is null ? right is null : left.Equals(right);

    /// <summary>Value inequality.</summary>
    /// <param name="left">The first operand.</param>
    /// <param name="right">The second operand.</param>
    /// <returns><see langword="true"/> when the operands differ.</returns>
    public static bool operator !=(UserId? left, UserId? right) => !(left == right);
}
