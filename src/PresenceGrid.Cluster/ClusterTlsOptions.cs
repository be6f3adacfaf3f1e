using System.Security.Cryptography.X509Certificates;

namespace PresenceGrid.Cluster;

/// <summary>
/// Where this silo's or client's TLS certificate comes from (exactly one of
/// <see cref="Certificate"/>, <see cref="CertificatePath"/> or <see cref="StoreSubject"/>), and
/// which peer certificates are trusted.
/// </summary>
public sealed class ClusterTlsOptions
{
    /// <summary>A certificate already loaded, with its private key.</summary>
    public X509Certificate2? Certificate { get; set; }

    /// <summary><c>cluster.tls_certificate</c>: a PKCS#12 (.pfx) file with the private key.</summary>
    public string? CertificatePath { get; set; }

    /// <summary><c>cluster.tls_certificate_password</c>: the password of <see cref="CertificatePath"/>, if any.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary><c>cluster.tls.store_subject</c>: the subject name of a certificate in an X.509 store.</summary>
    public string? StoreSubject { get; set; }

    /// <summary>The store of <see cref="StoreSubject"/> (default <see cref="StoreName.My"/>).</summary>
    public StoreName StoreName { get; set; } = StoreName.My;

    /// <summary>The store location of <see cref="StoreSubject"/> (default <see cref="StoreLocation.CurrentUser"/>).</summary>
    public StoreLocation StoreLocation { get; set; } = StoreLocation.CurrentUser;

    /// <summary>
    /// Thumbprints (hex) of peer certificates trusted even when their chain does not validate,
    /// for self-signed cluster certificates. The local certificate's thumbprint is always trusted,
    /// so a cluster sharing one self-signed certificate needs nothing here.
    /// </summary>
    public IList<string> TrustedThumbprints { get; } = [];
}
