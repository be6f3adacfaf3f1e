using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;

namespace PresenceGrid.Cluster.Tls;

/// <summary>Turns <see cref="ClusterTlsOptions"/> into Orleans' <see cref="TlsOptions"/>: mutual TLS, peers pinned or chain-validated.</summary>
internal static class ClusterTls
{
    /// <summary>Loads the configured certificate; a clear error names the configuration key.</summary>
    /// <param name="options">The TLS options.</param>
    /// <returns>The certificate, or null when it comes from a store (Orleans' loader reads the store).</returns>
    /// <exception cref="ArgumentException">No source, more than one, or an unusable certificate.</exception>
    public static X509Certificate2? LoadCertificate(ClusterTlsOptions options)
    {
        int sources = (options.Certificate is null ? 0 : 1)
            + (string.IsNullOrWhiteSpace(options.CertificatePath) ? 0 : 1)
            + (string.IsNullOrWhiteSpace(options.StoreSubject) ? 0 : 1);
        if (sources != 1)
        {
            throw new ArgumentException(
                "TLS needs exactly one certificate source: cluster.tls_certificate (with cluster.tls_certificate_password if any) or a certificate store subject (ClusterTlsOptions.StoreSubject).",
                nameof(options));
        }

        X509Certificate2? certificate = options.Certificate;
        if (!string.IsNullOrWhiteSpace(options.CertificatePath))
        {
            try
            {
                certificate = X509CertificateLoader.LoadPkcs12FromFile(options.CertificatePath, options.CertificatePassword);
            }
            catch (Exception exception) when (exception is CryptographicException or IOException or UnauthorizedAccessException)
            {
                throw new ArgumentException(
                    $"cluster.tls_certificate: cannot load '{options.CertificatePath}' as PKCS#12 ({exception.Message}); check the file and cluster.tls_certificate_password.",
                    nameof(options),
                    exception);
            }
        }

        if (certificate is { HasPrivateKey: false })
        {
            throw new ArgumentException(
                $"cluster.tls_certificate: the certificate {certificate.Subject} has no private key.",
                nameof(options));
        }

        return certificate;
    }

    /// <summary>Requires a certificate from every peer and checks it (<see cref="IsTrusted"/>).</summary>
    /// <param name="tls">Orleans' options for one host.</param>
    /// <param name="options">The cluster's TLS options.</param>
    public static void Configure(TlsOptions tls, ClusterTlsOptions options)
    {
        var trusted = new HashSet<string>(options.TrustedThumbprints, StringComparer.OrdinalIgnoreCase);
        tls.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        tls.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        tls.RemoteCertificateValidation = (certificate, _, errors) =>
            IsTrusted(certificate, errors, trusted, tls.LocalCertificate);
    }

    /// <summary>
    /// A peer certificate is trusted when its chain validates (a name mismatch is ignored: peers
    /// are reached by IP address), or when its thumbprint is pinned: one of
    /// <see cref="ClusterTlsOptions.TrustedThumbprints"/> or the local certificate's.
    /// </summary>
    private static bool IsTrusted(X509Certificate2 certificate, SslPolicyErrors errors, HashSet<string> trusted, X509Certificate2? local)
    {
        if ((errors & ~SslPolicyErrors.RemoteCertificateNameMismatch) == SslPolicyErrors.None)
        {
            return true;
        }

        string thumbprint = certificate.GetCertHashString(HashAlgorithmName.SHA1);
        return trusted.Contains(thumbprint)
            || (local is not null && string.Equals(thumbprint, local.GetCertHashString(HashAlgorithmName.SHA1), StringComparison.OrdinalIgnoreCase));
    }
}
