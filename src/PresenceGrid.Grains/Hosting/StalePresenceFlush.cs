using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PresenceGrid.Grains;
using PresenceGrid.Invocation;
using PresenceGrid.Matrix;
using PresenceGrid.Persistence;
using PresenceGrid.Presence;

namespace PresenceGrid.Hosting;

/// <summary>
/// With presence disabled, flushes every stored non-offline user offline when the silo starts (Synapse's
/// <c>_mark_stale_presence_as_offline</c>, PR #19948), instead of waiting for each user's grain to activate: the
/// grain does the flush when it activates, so this activates the grain of each such user the storage lists.
/// A storage that cannot list its records (no <see cref="IGrainStorageScan"/>) leaves the flush to activation.
/// </summary>
internal sealed partial class StalePresenceFlush(IServiceProvider services) : IHostedService
{
    // Activations in flight at once: enough to overlap the writes, few enough not to flood the silo at start.
    private const int Concurrency = 64;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (services.GetRequiredService<IOptions<PresenceOptions>>().Value.Mode != PresenceMode.Disabled
            || services.GetKeyedService<IGrainStorage>("Default") is not IGrainStorageScan scan)
        {
            return;
        }

        ILogger logger = services.GetService<ILogger<StalePresenceFlush>>() ?? Microsoft.Extensions.Logging.Abstractions.NullLogger<StalePresenceFlush>.Instance;
        try
        {
            IReadOnlyList<KeyValuePair<GrainId, PresenceRecord>> records = await scan.ReadAllAsync<PresenceRecord>(
                "presence", GrainTypeManifest.GrainInterface<IUserPresenceGrain>.GrainType, cancellationToken).ConfigureAwait(false);
            var stale = new List<string>();
            foreach ((GrainId user, PresenceRecord record) in records)
            {
                if (!PresenceStates.TryParse(record.State, busyEnabled: true, out PresenceState state) || state != PresenceState.Offline)
                {
                    stale.Add(user.Key);
                }
            }

            var grains = services.GetRequiredService<IGrainFactory>();
            for (int i = 0; i < stale.Count; i += Concurrency)
            {
                await Task.WhenAll(stale.Skip(i).Take(Concurrency).Select(user => grains.GetGrain<IUserPresenceGrain>(user).GetPresence())).ConfigureAwait(false);
            }

            LogFlushed(logger, stale.Count);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // The rest are flushed when their grains activate.
            LogFlushFailed(logger, exception);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 3202, EventName = "StalePresenceFlushed", Level = LogLevel.Information,
        Message = "Presence is disabled: {UserCount} stored non-offline users were flushed offline at start-up")]
    private static partial void LogFlushed(ILogger logger, int userCount);

    [LoggerMessage(EventId = 3203, EventName = "StalePresenceFlushFailed", Level = LogLevel.Warning,
        Message = "Presence is disabled: flushing stored non-offline users offline at start-up failed; the others are flushed when their grains activate")]
    private static partial void LogFlushFailed(ILogger logger, Exception exception);
}
