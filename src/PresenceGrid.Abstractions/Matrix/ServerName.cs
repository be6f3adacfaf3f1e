using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace PresenceGrid.Matrix;

/// <summary>
/// A Matrix server name: <c>hostname [":" port]</c> where hostname is a DNS name, an IPv4 literal or a
/// bracketed IPv6 literal (Matrix spec, appendices, "Server Name").
/// </summary>
/// <remarks>
/// DNS names follow Synapse's <c>VALID_HOST_REGEX</c> (labels of <c>[0-9A-Za-z-]</c> separated by single dots, so no
/// empty labels and no trailing dot), which is slightly stricter than the spec grammar. An IPv6 literal must be a real
/// address in RFC 4291 text form, an IPv4 tail without leading zeros (as Synapse's <c>ipaddress.IPv6Address</c> reads
/// it; the spec only limits its characters). The port is <c>1*5DIGIT</c> and must be at most 65535. Comparison is
/// ordinal on the original text, as in Synapse.
/// </remarks>
[System.Text.Json.Serialization.JsonConverter(typeof(ServerNameJsonConverter))]
public sealed class ServerName : IEquatable<ServerName>
{
    /// <summary>Maximum length of a server name in characters (the spec's <c>1*255dns-char</c>).</summary>
    public const int MaxLength = 255;

    private readonly string _value;

    private ServerName(string value, string host, int? port)
    {
        _value = value;
        Host = host;
        Port = port;
    }

    /// <summary>The host part: a DNS name, an IPv4 literal, or an IPv6 literal including its brackets.</summary>
    public string Host { get; }

    /// <summary>The explicit port, or <see langword="null"/> when none was given.</summary>
    public int? Port { get; }

    /// <summary>Parses a server name, returning <see langword="false"/> when it is invalid.</summary>
    /// <param name="value">The candidate server name.</param>
    /// <param name="serverName">The parsed server name when the result is <see langword="true"/>.</param>
    /// <returns><see langword="true"/> when <paramref name="value"/> is a valid server name.</returns>
    public static bool TryParse(string? value, [NotNullWhen(true)] out ServerName? serverName)
    {
        serverName = null;
        if (TryValidate(value, out var host, out var port) is not null)
        {
            return false;
        }

        serverName = new ServerName(value!, host!, port);
        return true;
    }

    /// <summary>Parses a server name or throws.</summary>
    /// <param name="value">The candidate server name.</param>
    /// <param name="field">The field name reported in the exception.</param>
    /// <returns>The parsed server name.</returns>
    /// <exception cref="MatrixValidationException">The value is not a valid server name (errcode <c>M_INVALID_PARAM</c>).</exception>
    public static ServerName Parse(string value, string field = "server_name")
    {
        var error = TryValidate(value, out var host, out var port);
        if (error is not null)
        {
            throw new MatrixValidationException(MatrixErrorCodes.InvalidParam, field, $"Invalid {field}: {error}.");
        }

        return new ServerName(value, host!, port);
    }

    /// <summary>Creates an already validated server name.</summary>
    internal static ServerName Create(string value, string host, int? port) => new(value, host, port);

    /// <summary>Returns <see langword="null"/> when valid, otherwise a short reason.</summary>
    internal static string? TryValidate(string? value, out string? host, out int? port)
    {
        host = null;
        port = null;
        if (string.IsNullOrEmpty(value))
        {
            return "server name is empty";
        }

        if (value.Length > MaxLength)
        {
            return "server name is longer than 255 characters";
        }

        string hostPart;
        string? portPart = null;
        if (value[0] == '[')
        {
            var close = value.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                return "mismatched '[' in server name";
            }

            hostPart = value[..(close + 1)];
            var rest = value[(close + 1)..];
            if (rest.Length > 0)
            {
                if (rest[0] != ':')
                {
                    return "unexpected characters after IPv6 literal";
                }

                portPart = rest[1..];
            }

            if (!IsValidIpv6Literal(hostPart.AsSpan(1, hostPart.Length - 2)))
            {
                return "invalid IPv6 literal";
            }
        }
        else
        {
            var colon = value.IndexOf(':', StringComparison.Ordinal);
            if (colon >= 0)
            {
                hostPart = value[..colon];
                portPart = value[(colon + 1)..];
            }
            else
            {
                hostPart = value;
            }

            if (!IsValidDnsNameOrIpv4(hostPart))
            {
                return "invalid host name";
            }
        }

        if (portPart is not null)
        {
            if (portPart.Length is < 1 or > 5 || !portPart.All(char.IsAsciiDigit))
            {
                return "invalid port";
            }

            var parsed = int.Parse(portPart, NumberStyles.None, CultureInfo.InvariantCulture);
            if (parsed > 65535)
            {
                return "port out of range";
            }

            port = parsed;
        }

        host = hostPart;
        return null;
    }

    private static bool IsValidIpv6Literal(ReadOnlySpan<char> address)
    {
        // Spec grammar: 2*45IPv6char where IPv6char = DIGIT / A-F / a-f / ":" / "."; then it must really be an IPv6 address.
        if (address.Length is < 2 or > 45)
        {
            return false;
        }

        foreach (var c in address)
        {
            if (!(char.IsAsciiHexDigit(c) || c == ':' || c == '.'))
            {
                return false;
            }
        }

        return IPAddress.TryParse(address, out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6
            && HasNoLeadingZeroInEmbeddedIpv4(address);
    }

    /// <summary>
    /// An IPv4 tail (<c>::ffff:1.2.3.4</c>) is four decimal octets without leading zeros (RFC 3986 <c>dec-octet</c>; Synapse's
    /// <c>ipaddress.IPv6Address</c> refuses <c>::1.2.3.04</c>), which <see cref="IPAddress.TryParse(ReadOnlySpan{char}, out IPAddress?)"/> accepts.
    /// </summary>
    private static bool HasNoLeadingZeroInEmbeddedIpv4(ReadOnlySpan<char> address)
    {
        var tail = address[(address.LastIndexOf(':') + 1)..];
        if (!tail.Contains('.'))
        {
            return true;
        }

        foreach (var octet in tail.Split('.'))
        {
            if (tail[octet].Length > 1 && tail[octet][0] == '0')
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsValidDnsNameOrIpv4(string host)
    {
        // Synapse VALID_HOST_REGEX: \A[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*\Z (covers IPv4 literals too).
        if (host.Length == 0)
        {
            return false;
        }

        var labelLength = 0;
        foreach (var c in host)
        {
            if (c == '.')
            {
                if (labelLength == 0)
                {
                    return false;
                }

                labelLength = 0;
            }
            else if (char.IsAsciiLetterOrDigit(c) || c == '-')
            {
                labelLength++;
            }
            else
            {
                return false;
            }
        }

        return labelLength > 0;
    }

    /// <summary>Returns the server name exactly as parsed.</summary>
    /// <returns>The original string.</returns>
    public override string ToString() => _value;

    /// <inheritdoc />
    public bool Equals(ServerName? other) => other is not null && string.Equals(_value, other._value, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as ServerName);

    /// <inheritdoc />
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(_value);

    /// <summary>Value equality.</summary>
    /// <param name="left">The first operand.</param>
    /// <param name="right">The second operand.</param>
    /// <returns><see langword="true"/> when both are equal or both are null.</returns>
    public static bool operator ==(ServerName? left, ServerName? right) => left is null ? right is null : left.Equals(right);

    /// <summary>Value inequality.</summary>
    /// <param name="left">The first operand.</param>
    /// <param name="right">The second operand.</param>
    /// <returns><see langword="true"/> when the operands differ.</returns>
    public static bool operator !=(ServerName? left, ServerName? right) => !(left == right);
}
