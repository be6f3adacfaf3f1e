using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Connections.Security;
using PresenceGrid.Cluster.Tests.Infrastructure;

namespace PresenceGrid.Cluster.Tests;

/// <summary>UseClusterTls: Orleans' TLS with a certificate from a file, peers pinned to the cluster's self-signed certificate.</summary>
public sealed class ClusterTlsTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private readonly TestCertificates _certificates = new();
    private readonly TestClusterSettings _settings = new();
    private readonly ClusterTlsOptions _clusterCertificate;

    public ClusterTlsTests()
    {
        _clusterCertificate = FromFile(_certificates.CreatePfx("presencegrid-cluster"));
        _settings.SiloTls = _clusterCertificate;
        _settings.ClientTls = _clusterCertificate;
    }

    public void Dispose() => _certificates.Dispose();

    [Fact]
    public async Task TlsOn_SharedSelfSignedCertificate_CallsWork_OverEncryptedConnections()
    {
        // Every inbound connection, after the TLS middleware: does it carry a TLS session?
        var encrypted = new ConcurrentQueue<bool>();
        _settings.ConfigureSilo = silo => silo.Services.PostConfigure<SiloConnectionOptions>(options =>
        {
            options.ConfigureSiloInboundConnection(Spy);
            options.ConfigureGatewayInboundConnection(Spy);
        });
        void Spy(Microsoft.AspNetCore.Connections.IConnectionBuilder connection) => connection.Use(next => context =>
        {
            encrypted.Enqueue(context.Features.Get<ITlsConnectionFeature>()?.RemoteCertificate is not null);
            return next(context);
        });

        await using var cluster = _settings.Build(2);
        await cluster.DeployAsync();
        long onSecond = await ClusterProbe.FindGrainOn(cluster.Client, cluster.Silos[1].SiloAddress);
        long onFirst = await ClusterProbe.FindGrainOn(cluster.Client, cluster.Silos[0].SiloAddress);

        Assert.Equal(cluster.Silos[1].SiloAddress, await cluster.Client.GetGrain<IWhereGrain>(onFirst).GetSiloAddressOf(onSecond));
        Assert.NotEmpty(encrypted);
        Assert.All(encrypted, Assert.True);
        Assert.NotEmpty(_settings.Logs.WithEventId(5502));
    }

    [Fact]
    public async Task TlsOn_ClientWithoutTls_CannotConnect()
    {
        await using var cluster = _settings.Build(1);
        await cluster.DeployAsync();

        _settings.ClientTls = null;
        _settings.ClientRetries = false;
        var (error, elapsed) = await ClusterProbe.TryStartClient(cluster, Bound);

        Assert.NotNull(error);
        Assert.IsNotType<TimeoutException>(error);
        Assert.True(elapsed < TimeSpan.FromSeconds(15), $"refused after {elapsed}");
    }

    [Fact]
    public async Task TlsOn_ClientWithAnotherSelfSignedCertificate_IsRefused()
    {
        await using var cluster = _settings.Build(1);
        await cluster.DeployAsync();

        _settings.ClientTls = FromFile(_certificates.CreatePfx("someone-else"));
        _settings.ClientRetries = false;
        var (error, elapsed) = await ClusterProbe.TryStartClient(cluster, Bound);

        Assert.NotNull(error);
        Assert.IsNotType<TimeoutException>(error);
        Assert.True(elapsed < TimeSpan.FromSeconds(15), $"refused after {elapsed}");
    }

    [Fact]
    public void Certificate_MissingOrUnreadable_IsRejectedNamingTheKey()
    {
        var none = Assert.Throws<ArgumentException>(() => BuildSilo(new ClusterTlsOptions()));
        Assert.Contains("cluster.tls_certificate", none.Message, StringComparison.Ordinal);

        var wrongPassword = Assert.Throws<ArgumentException>(() => BuildSilo(new ClusterTlsOptions
        {
            CertificatePath = _clusterCertificate.CertificatePath,
            CertificatePassword = "not the password",
        }));
        Assert.Contains("cluster.tls_certificate", wrongPassword.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(_certificates.Password, wrongPassword.Message, StringComparison.Ordinal);
    }

    private ClusterTlsOptions FromFile(string path) => new() { CertificatePath = path, CertificatePassword = _certificates.Password };

    private static void BuildSilo(ClusterTlsOptions options) =>
        Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true })
            .UseOrleans(silo => silo.UseClusterTls(options));
}
