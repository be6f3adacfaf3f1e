using System.Net;
using Microsoft.Extensions.Options;

namespace PresenceGrid.Runtime.Networking;

/// <summary>
/// The silo-to-silo transport: where the silo port listens, how peers authenticate, and the limits of
/// frames, queues and timeouts. Validated by <see cref="SiloTransportOptions.Validate"/> when the transport is created.
/// </summary>
public sealed class SiloTransportOptions
{
    /// <summary>The shortest secret accepted, in characters.</summary>
    public const int MinSecretLength = 16;

    /// <summary>The longest cluster id accepted, in UTF-8 bytes (it travels in the handshake, which is bounded to 1 KiB).</summary>
    public const int MaxClusterIdBytes = 256;

    /// <summary>The cluster's id. Peers with another id are refused in the handshake. Required.</summary>
    public string ClusterId { get; set; } = string.Empty;

    /// <summary>
    /// The cluster secret: both ends prove they know it (HMAC-SHA256 over both handshake hellos) and new
    /// connections sign with it. Required, at least <see cref="MinSecretLength"/> characters. Never logged.
    /// </summary>
    public string Secret { get; set; } = string.Empty;

    /// <summary>
    /// A second secret that is also <em>accepted</em> (never used to sign), for rotation without downtime:
    /// (1) every silo gets <c>Secret = old, PreviousSecret = new</c>; (2) every silo gets <c>Secret = new, PreviousSecret = old</c>;
    /// (3) drop <see cref="PreviousSecret"/>. Optional; when set, at least <see cref="MinSecretLength"/> characters.
    /// </summary>
    public string? PreviousSecret { get; set; }

    /// <summary>The IP address the silo port binds to and advertises (or <c>localhost</c>). Default <c>127.0.0.1</c>.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>The silo port; 0 picks a free port (the bound endpoint is returned by <c>StartAsync</c>). Default 0.</summary>
    public int Port { get; set; }

    /// <summary>The largest frame body accepted or sent, in bytes. Default 4 MiB.</summary>
    public int MaxBodyBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>The largest frame header accepted or sent, in bytes (fixed fields plus the UTF-8 target). Default 64 KiB.</summary>
    public int MaxHeaderBytes { get; set; } = 64 * 1024;

    /// <summary>How long a TCP connect to a peer may take. Default 5 seconds.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long the handshake (hello and proof, at most 1 KiB each way) may take. Default 5 seconds.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// An idle connection sends a ping this often; a connection whose peer sent nothing for three intervals is closed
    /// (half-open TCP). Default 2 seconds.
    /// </summary>
    public TimeSpan PingInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Messages that may wait for one peer (while dialing, or queued on its connection). When full, further sends to that
    /// peer fail at once through <c>OnSendFailed</c> with a <see cref="SiloUnavailableException"/> saying the queue is full
    /// (overloaded: transient, the caller may retry later). Default 65,536.
    /// </summary>
    public int MaxQueuedPerPeer { get; set; } = 65_536;

    /// <summary>The first delay after a failed dial during which sends to that peer fail at once. Default 0.5 seconds; doubles per failure.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest delay between dial attempts. Default 5 seconds.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Checks every field; returns all problems at once.</summary>
    /// <returns>The validation result.</returns>
    public ValidateOptionsResult Validate()
    {
        var failures = new List<string>();
        const string Prefix = nameof(SiloTransportOptions);
        if (string.IsNullOrWhiteSpace(ClusterId))
        {
            failures.Add($"{Prefix}.{nameof(ClusterId)} must not be empty.");
        }
        else if (System.Text.Encoding.UTF8.GetByteCount(ClusterId) > MaxClusterIdBytes)
        {
            failures.Add($"{Prefix}.{nameof(ClusterId)} must be at most {MaxClusterIdBytes} UTF-8 bytes.");
        }

        // Never echo the secrets themselves.
        if (string.IsNullOrEmpty(Secret) || Secret.Length < MinSecretLength)
        {
            failures.Add($"{Prefix}.{nameof(Secret)} must be at least {MinSecretLength} characters.");
        }

        if (PreviousSecret is not null && PreviousSecret.Length < MinSecretLength)
        {
            failures.Add($"{Prefix}.{nameof(PreviousSecret)} must be null or at least {MinSecretLength} characters.");
        }

        if (!string.Equals(Host, "localhost", StringComparison.OrdinalIgnoreCase) && !IPAddress.TryParse(Host, out _))
        {
            failures.Add($"{Prefix}.{nameof(Host)} must be an IP address or 'localhost' (is '{Host}').");
        }

        if (Port is < 0 or > 65535)
        {
            failures.Add($"{Prefix}.{nameof(Port)} must be 0 (any free port) or a port number (is {Port}).");
        }

        if (MaxBodyBytes <= 0)
        {
            failures.Add($"{Prefix}.{nameof(MaxBodyBytes)} must be positive (is {MaxBodyBytes}).");
        }

        if (MaxHeaderBytes < FrameCodec.FixedHeaderBytes)
        {
            failures.Add($"{Prefix}.{nameof(MaxHeaderBytes)} must be at least {FrameCodec.FixedHeaderBytes} (is {MaxHeaderBytes}).");
        }

        CheckPositive(failures, nameof(ConnectTimeout), ConnectTimeout);
        CheckPositive(failures, nameof(HandshakeTimeout), HandshakeTimeout);
        CheckPositive(failures, nameof(PingInterval), PingInterval);
        CheckPositive(failures, nameof(RetryDelay), RetryDelay);
        if (MaxRetryDelay < RetryDelay)
        {
            failures.Add($"{Prefix}.{nameof(MaxRetryDelay)} ({MaxRetryDelay}) must not be below {nameof(RetryDelay)} ({RetryDelay}).");
        }

        if (MaxQueuedPerPeer <= 0)
        {
            failures.Add($"{Prefix}.{nameof(MaxQueuedPerPeer)} must be positive (is {MaxQueuedPerPeer}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        static void CheckPositive(List<string> failures, string name, TimeSpan value)
        {
            if (value <= TimeSpan.Zero)
            {
                failures.Add($"{nameof(SiloTransportOptions)}.{name} must be positive (is {value}).");
            }
        }
    }
}

/// <summary>Validates <see cref="SiloTransportOptions"/> for <c>ValidateOnStart</c>.</summary>
internal sealed class SiloTransportOptionsValidator : IValidateOptions<SiloTransportOptions>
{
    public ValidateOptionsResult Validate(string? name, SiloTransportOptions options) => options.Validate();
}
