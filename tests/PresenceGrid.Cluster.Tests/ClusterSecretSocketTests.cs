using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PresenceGrid.Cluster.Tests.Infrastructure;

namespace PresenceGrid.Cluster.Tests;

/// <summary>The handshake over Orleans' real socket transport (TestingHost's clusters use an in-memory one).</summary>
public sealed class ClusterSecretSocketTests
{
    private const string ClusterId = "pgrid-sockets";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private readonly LogCollector _logs = new();

    [Fact]
    public async Task OverTcp_ClientWithTheSecretCalls_ClientWithAnotherIsRefusedAtOnce()
    {
        int siloPort = FreePort();
        int gatewayPort = FreePort();
        var siloBuilder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        AddLogs(siloBuilder.Services);
        siloBuilder.UseOrleans(silo => silo
            .UseLocalhostClustering(siloPort, gatewayPort, serviceId: ClusterId, clusterId: ClusterId)
            .UseClusterSecret(TestClusterSettings.Secret));
        using IHost siloHost = siloBuilder.Build();
        await siloHost.StartAsync().WaitAsync(Bound);

        using (IHost client = await StartClient(gatewayPort, TestClusterSettings.Secret))
        {
            var grain = client.Services.GetRequiredService<IClusterClient>().GetGrain<IWhereGrain>(1);
            Assert.NotNull(await grain.GetSiloAddress().WaitAsync(Bound));
            await client.StopAsync().WaitAsync(Bound);
        }

        var stopwatch = Stopwatch.StartNew();
        var refused = await Assert.ThrowsAsync<ClusterSecretHandshakeException>(() => StartClient(gatewayPort, "a different secret of the tests").WaitAsync(Bound));
        TimeSpan elapsed = stopwatch.Elapsed;

        Assert.Equal(HandshakeFailure.ClosedByPeer, refused.Failure);
        Assert.True(elapsed < TimeSpan.FromSeconds(5), $"refused after {elapsed}");
        Assert.Contains(_logs.WithEventId(5500), e => Equals(e["Failure"], HandshakeFailure.WrongProof));
        Assert.Contains(_logs.WithEventId(5502), e => e["Role"]?.ToString() == "Acceptor");
        await siloHost.StopAsync().WaitAsync(Bound);
    }

    private async Task<IHost> StartClient(int gatewayPort, string secret)
    {
        var clientBuilder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        AddLogs(clientBuilder.Services);
        clientBuilder.UseOrleansClient(client => client
            .UseLocalhostClustering(gatewayPort, serviceId: ClusterId, clusterId: ClusterId)
            .UseClusterSecret(secret));
        IHost host = clientBuilder.Build();
        try
        {
            await host.StartAsync();
            return host;
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    private void AddLogs(IServiceCollection services)
    {
        services.AddSingleton<ILoggerProvider>(_logs);
        services.AddLogging(logging => logging.AddFilter("PresenceGrid.Cluster", LogLevel.Debug));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
