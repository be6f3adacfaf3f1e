using System.Text;

namespace PresenceGrid.Matrix;

/// <summary>Shared checks for sigil-prefixed Matrix identifiers.</summary>
internal static class MatrixIdentifier
{
    /// <summary>The spec's limit for user and room ids, in UTF-8 bytes, including sigil and server name.</summary>
    public const int MaxUtf8Bytes = 255;

    /// <summary>True when every character is printable ASCII other than space (0x21-0x7E).</summary>
    public static bool IsPrintableAsciiWithoutSpace(ReadOnlySpan<char> value)
    {
        foreach (var c in value)
        {
            if (c is < '\x21' or > '\x7E')
            {
                return false;
            }
        }

        return true;
    }

    public static bool ExceedsLength(string value) =>
        value.Length > MaxUtf8Bytes || Encoding.UTF8.GetByteCount(value) > MaxUtf8Bytes;
}
