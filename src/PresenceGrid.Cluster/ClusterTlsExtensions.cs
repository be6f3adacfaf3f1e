using PresenceGrid.Cluster.Tls;

namespace PresenceGrid.Cluster;

/// <summary>
/// TLS on silo and gateway connections where a certificate is configured, through Orleans' own
/// <c>UseTls</c> (Microsoft.Orleans.Connections.Security). Mutual: every side presents a
/// certificate. The cluster-secret handshake, when also on, runs inside the TLS session.
/// </summary>
public static class ClusterTlsExtensions
{
    /// <summary>Encrypts this silo's silo and gateway connections and requires a trusted certificate from every peer.</summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="options">Where the certificate comes from, and extra trusted thumbprints.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">No usable certificate is configured.</exception>
    public static ISiloBuilder UseClusterTls(this ISiloBuilder builder, ClusterTlsOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        return ClusterTls.LoadCertificate(options) is { } certificate
            ? builder.UseTls(certificate, tls => ClusterTls.Configure(tls, options))
            : builder.UseTls(options.StoreName, options.StoreSubject!, allowInvalid: false, options.StoreLocation, tls => ClusterTls.Configure(tls, options));
    }

    /// <summary>Encrypts this client's gateway connections, presenting its certificate and requiring a trusted one from the gateway.</summary>
    /// <param name="builder">The client builder.</param>
    /// <param name="options">Where the certificate comes from, and extra trusted thumbprints.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">No usable certificate is configured.</exception>
    public static IClientBuilder UseClusterTls(this IClientBuilder builder, ClusterTlsOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        return ClusterTls.LoadCertificate(options) is { } certificate
            ? builder.UseTls(certificate, tls => ClusterTls.Configure(tls, options))
            : builder.UseTls(options.StoreName, options.StoreSubject!, allowInvalid: false, options.StoreLocation, tls => ClusterTls.Configure(tls, options));
    }
}
