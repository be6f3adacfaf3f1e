namespace PresenceGrid.Silo.Api;

/// <summary>Reads the token of an <c>Authorization: Bearer TOKEN</c> header.</summary>
internal static class BearerToken
{
    private const string Scheme = "Bearer";

    /// <summary>
    /// The token of a bearer <c>Authorization</c> header. The scheme is matched without regard to case and may be followed
    /// by more than one space (RFC 7235, 2.1: <c>credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ]</c>, and
    /// "auth-scheme is case-insensitive"), so <c>bearer TOKEN</c> and <c>BEARER  TOKEN</c> are read as <c>Bearer TOKEN</c>.
    /// </summary>
    /// <param name="header">The header's value.</param>
    /// <param name="token">The token, when the result is <see langword="true"/>.</param>
    /// <returns><see langword="true"/> when the header names the bearer scheme and carries a token.</returns>
    public static bool TryRead(string header, out string token)
    {
        token = string.Empty;
        if (header.Length <= Scheme.Length || header[Scheme.Length] != ' '
            || !header.AsSpan(0, Scheme.Length).Equals(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        token = header[(Scheme.Length + 1)..].TrimStart(' ');
        return token.Length > 0;
    }
}
