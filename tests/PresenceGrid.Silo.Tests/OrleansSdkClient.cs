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

    /// <summary>Builds the client host; <paramref name="secret"/> is the cluster secret it presents (none when null: no retries then, as a refusal is final).</summary>
    public static IHost Build(RunningSilo silo, string? secret)
    {
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
            else
            {
                client.UseConnectionRetryFilter((_, _) => Task.FromResult(false));
            }
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
