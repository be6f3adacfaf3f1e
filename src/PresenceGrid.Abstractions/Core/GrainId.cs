namespace PresenceGrid;

/// <summary>
/// The identity of a grain: its grain type and its string key. The text form is <c>type/key</c>.
/// It carries a stable hash (<see cref="StableHash"/>) computed once, on which placement hashes.
/// </summary>
public readonly struct GrainId : IEquatable<GrainId>, ISpanFormattable
{
    private readonly uint _hash;

    /// <summary>Creates a grain id.</summary>
    /// <param name="type">The grain type (for example <c>user</c>); not empty, no <c>/</c>.</param>
    /// <param name="key">The grain's key; not null.</param>
    public GrainId(string type, string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(type);
        ArgumentNullException.ThrowIfNull(key);
        if (type.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException($"A grain type may not contain '/': '{type}'.", nameof(type));
        }

        Type = type;
        Key = key;
        _hash = StableHash.Compute(key, StableHash.Compute(type));
    }

    /// <summary>The grain type, for example <c>user</c>.</summary>
    public string Type { get; }

    /// <summary>The grain's string key.</summary>
    public string Key { get; }

    /// <summary>True for the default value, which names no grain.</summary>
    public bool IsDefault => Type is null;

    /// <summary>A hash that is the same in every process; placement and partitioning use it.</summary>
    /// <returns>The stable hash of type and key.</returns>
    public uint GetUniformHashCode() => _hash;

    /// <summary>Parses the text form <c>type/key</c>.</summary>
    /// <param name="text">The text form.</param>
    /// <returns>The grain id.</returns>
    public static GrainId Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0)
        {
            throw new FormatException($"'{text}' is not a grain id: expected 'type/key'.");
        }

        return new GrainId(text[..slash], text[(slash + 1)..]);
    }

    /// <inheritdoc />
    public bool Equals(GrainId other) =>
        _hash == other._hash && string.Equals(Type, other.Type, StringComparison.Ordinal) && string.Equals(Key, other.Key, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is GrainId other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => (int)_hash;

    /// <inheritdoc />
    public override string ToString() => IsDefault ? "<none>" : $"{Type}/{Key}";

    /// <inheritdoc />
    public string ToString(string? format, IFormatProvider? formatProvider) => ToString();

    /// <inheritdoc />
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
    {
        if (IsDefault)
        {
            return destination.TryWrite($"<none>", out charsWritten);
        }

        return destination.TryWrite($"{Type}/{Key}", out charsWritten);
    }

    /// <summary>Compares two ids for equality.</summary>
    public static bool operator ==(GrainId left, GrainId right) => left.Equals(right);

    /// <summary>Compares two ids for inequality.</summary>
    public static bool operator !=(GrainId left, GrainId right) => !left.Equals(right);
}
