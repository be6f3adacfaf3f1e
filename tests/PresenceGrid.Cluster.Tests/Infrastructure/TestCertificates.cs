using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace PresenceGrid.Cluster.Tests.Infrastructure;

/// <summary>Self-signed certificates made in the test, written as password-protected PKCS#12 files.</summary>
public sealed class TestCertificates : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("pgrid-cluster-tls-").FullName;

    public string Password { get; } = Convert.ToHexString(RandomNumberGenerator.GetBytes(8));

    /// <summary>Creates a self-signed certificate for server and client authentication; returns its .pfx path.</summary>
    public string CreatePfx(string subject)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={subject}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(subject);
        request.CertificateExtensions.Add(san.Build());

        DateTimeOffset now = DateTimeOffset.UtcNow;
        using X509Certificate2 certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(1));
        string path = Path.Combine(_directory, subject + ".pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, Password));
        return path;
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
