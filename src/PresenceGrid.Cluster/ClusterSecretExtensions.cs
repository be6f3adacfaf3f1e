using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using PresenceGrid.Cluster.Handshake;

namespace PresenceGrid.Cluster;

/// <summary>
/// <c>cluster.secret</c>: a silo or client without the secret can neither join nor call. Every
/// silo-to-silo connection (both directions), every gateway connection and every client
/// connection starts with a mutual HMAC-SHA256 challenge-response over fresh nonces from both
/// sides and the cluster id, before Orleans' own preamble (docs/cluster-security.md).
/// </summary>
public static class ClusterSecretExtensions
{
    /// <summary>The least number of characters <c>cluster.secret</c> may have.</summary>
    public const int MinimumSecretLength = 16;

    /// <summary>The default handshake deadline (Orleans' default connection-open timeout).</summary>
    public static readonly TimeSpan DefaultHandshakeTimeout = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan MaximumHandshakeTimeout = TimeSpan.FromMinutes(1);

    /// <summary>Requires the cluster-secret handshake on this silo's silo and gateway connections (deadline <see cref="DefaultHandshakeTimeout"/>).</summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="secret"><c>cluster.secret</c>: at least <see cref="MinimumSecretLength"/> characters, the same on every silo and client.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The secret is missing or too short.</exception>
    public static ISiloBuilder UseClusterSecret(this ISiloBuilder builder, string secret) =>
        builder.UseClusterSecret(secret, DefaultHandshakeTimeout);

    /// <summary>Requires the cluster-secret handshake on this silo's silo and gateway connections.</summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="secret"><c>cluster.secret</c>: at least <see cref="MinimumSecretLength"/> characters, the same on every silo and client.</param>
    /// <param name="handshakeTimeout">How long a peer has to complete the handshake (over 0, at most one minute).</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The secret is missing or too short, or the timeout is out of range.</exception>
    public static ISiloBuilder UseClusterSecret(this ISiloBuilder builder, string secret, TimeSpan handshakeTimeout)
    {
        ArgumentNullException.ThrowIfNull(builder);
        Validate(secret, handshakeTimeout);

        // PostConfigure: the handshake is added after every Configure delegate, so it is the
        // innermost middleware and runs inside TLS (UseClusterTls) whatever the call order.
        builder.Services.PostConfigure<SiloConnectionOptions>(options =>
        {
            options.ConfigureSiloOutboundConnection(connection => connection.UseClusterSecretHandshake(HandshakeRole.Initiator, secret, handshakeTimeout));
            options.ConfigureSiloInboundConnection(connection => connection.UseClusterSecretHandshake(HandshakeRole.Acceptor, secret, handshakeTimeout));
            options.ConfigureGatewayInboundConnection(connection => connection.UseClusterSecretHandshake(HandshakeRole.Acceptor, secret, handshakeTimeout));
        });
        return builder;
    }

    /// <summary>Runs the cluster-secret handshake on this client's gateway connections (deadline <see cref="DefaultHandshakeTimeout"/>).</summary>
    /// <param name="builder">The client builder.</param>
    /// <param name="secret"><c>cluster.secret</c>, the same as the silos'.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The secret is missing or too short.</exception>
    public static IClientBuilder UseClusterSecret(this IClientBuilder builder, string secret) =>
        builder.UseClusterSecret(secret, DefaultHandshakeTimeout);

    /// <summary>
    /// Runs the cluster-secret handshake on this client's gateway connections. A refused handshake
    /// ends the client's start-up at once instead of being retried (other connection failures go
    /// to the retry filter registered before this call).
    /// </summary>
    /// <param name="builder">The client builder.</param>
    /// <param name="secret"><c>cluster.secret</c>, the same as the silos'.</param>
    /// <param name="handshakeTimeout">How long a gateway has to complete the handshake (over 0, at most one minute).</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The secret is missing or too short, or the timeout is out of range.</exception>
    public static IClientBuilder UseClusterSecret(this IClientBuilder builder, string secret, TimeSpan handshakeTimeout)
    {
        ArgumentNullException.ThrowIfNull(builder);
        Validate(secret, handshakeTimeout);
        builder.Services.PostConfigure<ClientConnectionOptions>(options =>
            options.ConfigureConnection(connection => connection.UseClusterSecretHandshake(HandshakeRole.Initiator, secret, handshakeTimeout)));
        ClusterSecretRetryFilter.Register(builder.Services);
        return builder;
    }

    private static void Validate(string secret, TimeSpan handshakeTimeout)
    {
        if (string.IsNullOrWhiteSpace(secret) || secret.Length < MinimumSecretLength)
        {
            throw new ArgumentException(
                $"cluster.secret must be at least {MinimumSecretLength} characters (same value on every silo and client).",
                nameof(secret));
        }

        if (handshakeTimeout <= TimeSpan.Zero || handshakeTimeout > MaximumHandshakeTimeout)
        {
            throw new ArgumentOutOfRangeException(
                nameof(handshakeTimeout),
                handshakeTimeout,
                "The cluster-secret handshake timeout must be over 0 and at most one minute.");
        }
    }
}
