using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PresenceGrid.Fanout;
using PresenceGrid.Persistence;

namespace PresenceGrid.Hosting;

/// <summary>
/// In a cluster (when <see cref="IClusterMessaging"/> is registered): starts presence replication
/// and rebuilds this silo's presence view from grain storage before the silo serves syncs. Does
/// nothing for a single silo.
/// </summary>
internal sealed class PresenceClusterStartup(IServiceProvider services) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (services.GetService<IClusterMessaging>() is not { } cluster)
        {
            return;
        }

        var replication = new PresenceReplication(
            cluster,
            services.GetRequiredService<PresenceFanout>(),
            services.GetRequiredService<RoomMembershipIndex>(),
            services.GetRequiredService<PresenceMetrics>(),
            services.GetService<ILogger<PresenceReplication>>() ?? Microsoft.Extensions.Logging.Abstractions.NullLogger<PresenceReplication>.Instance);
        await replication.BootstrapAsync(services.GetKeyedService<IGrainStorage>("Default"), cancellationToken).ConfigureAwait(false);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
