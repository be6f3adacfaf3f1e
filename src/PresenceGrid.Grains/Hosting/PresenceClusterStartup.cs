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
internal sealed partial class PresenceClusterStartup(IServiceProvider services) : IHostedService
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
        IGrainStorage? storage = services.GetKeyedService<IGrainStorage>("Default");
        await replication.BootstrapAsync(storage, cancellationToken).ConfigureAwait(false);

        // Peers start replicating to this silo once their view shows it; what they stored before that
        // (and after the scan above) is picked up by a second scan once every view has caught up.
        _ = Task.Run(
            async () =>
            {
                try
                {
                    await Task.Delay(SecondScanDelay, services.GetRequiredService<TimeProvider>(), _stopping.Token).ConfigureAwait(false);
                    await replication.BootstrapAsync(storage, _stopping.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
                catch (Exception exception)
                {
                    LogSecondScanFailed(services.GetService<ILogger<PresenceClusterStartup>>(), exception);
                }
            },
            CancellationToken.None);
    }

    private static readonly TimeSpan SecondScanDelay = TimeSpan.FromSeconds(3);

    private readonly CancellationTokenSource _stopping = new();

    private static void LogSecondScanFailed(ILogger? logger, Exception exception)
    {
        if (logger is not null)
        {
            LogScanFailed(logger, exception);
        }
    }

    [LoggerMessage(EventId = 3201, EventName = "PresenceRescanFailed", Level = LogLevel.Warning,
        Message = "The second rebuild of the presence view from storage failed; memberships stored while this silo joined may be missing until they change")]
    private static partial void LogScanFailed(ILogger logger, Exception exception);

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        return Task.CompletedTask;
    }
}
