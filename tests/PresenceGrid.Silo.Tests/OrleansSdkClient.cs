using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using PresenceGrid.Cluster;
using PresenceGrid.Client;

namespace PresenceGrid.Silo.Tests;

/// <summary>An Orleans client host connected to a <see cref="RunningSilo"/>'s gateway, with the SDK's Orleans transport registered as a .NET frontend would.</summary>
internal sealed class OrleansSdkClient : IAsyncDisposable
{
    private readonly IHost _host;

    private OrleansSdkClient(IHost host)
    {
        _host = host;
        Client = host.Services.GetRequiredService<IPresenceGridClient>();
    }

    public IPresenceGridClient Client { get; }

    /// <summary>
    /// Builds the client host; <paramref name="secret"/> is the cluster secret it presents. A failed first connection is
    /// retried (a loaded test machine can take over Orleans' 5 s to accept one) unless <paramref name="retry"/> is false.
    /// </summary>
    public static IHost Build(RunningSilo silo, string? secret, bool retry = true)
    {
        int attempts = 0;
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleansClient(client =>
        {
            client.UseStaticClustering(silo.Gateway);
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = silo.ClusterId;
                o.ServiceId = SiloCluster.ServiceId;
            });
            if (secret is not null)
            {
                client.UseClusterSecret(secret);
            }

            client.UseConnectionRetryFilter((_, _) => Task.FromResult(retry && Interlocked.Increment(ref attempts) < 5));
        });
        builder.Services.AddPresenceGridOrleansClient();
        return builder.Build();
    }

    public static async Task<OrleansSdkClient> ConnectAsync(RunningSilo silo, string? secret = null)
    {
        IHost host = Build(silo, secret);
        await host.StartAsync();
        return new OrleansSdkClient(host);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}
