using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PresenceGrid.Grains;
using PresenceGrid.Matrix;
using PresenceGrid.Persistence;
using PresenceGrid.Presence;

namespace PresenceGrid.Hosting;

/// <summary>
/// With presence disabled, flushes every stored non-offline user offline when the silo becomes active (Synapse's
/// <c>_mark_stale_presence_as_offline</c>, PR #19948), instead of waiting for each user's grain to activate: the
/// grain does the flush when it activates, so this activates the grain of each such user the storage lists.
/// A storage that cannot list its records (no <see cref="IGrainStateScan"/>) leaves the flush to activation.
/// </summary>
internal sealed partial class StalePresenceFlush(
    IOptions<PresenceOptions> options,
    IGrainFactory grains,
    ILogger<StalePresenceFlush> logger,
    IGrainStateScan? scan = null) : ILifecycleParticipant<ISiloLifecycle>
{
    // Activations in flight at once: enough to overlap the writes, few enough not to flood the silo at start.
    private const int Concurrency = 64;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(StalePresenceFlush), ServiceLifecycleStage.Active, FlushAsync, _ => Task.CompletedTask);

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (options.Value.Mode != PresenceMode.Disabled || scan is null)
        {
            return;
        }

        try
        {
            IReadOnlyList<KeyValuePair<string, PresenceRecord>> records =
                await scan.ReadAllAsync<PresenceRecord>(UserPresenceGrain.StateName, UserPresenceGrain.GrainType, cancellationToken).ConfigureAwait(false);
            var stale = new List<string>();
            foreach ((string user, PresenceRecord record) in records)
            {
                if (!PresenceStates.TryParse(record.State, busyEnabled: true, out PresenceState state) || state != PresenceState.Offline)
                {
                    stale.Add(user);
                }
            }

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

    [LoggerMessage(EventId = 3202, EventName = "StalePresenceFlushed", Level = LogLevel.Information,
        Message = "Presence is disabled: {UserCount} stored non-offline users were flushed offline at start-up")]
    private static partial void LogFlushed(ILogger logger, int userCount);

    [LoggerMessage(EventId = 3203, EventName = "StalePresenceFlushFailed", Level = LogLevel.Warning,
        Message = "Presence is disabled: flushing stored non-offline users offline at start-up failed; the others are flushed when their grains activate")]
    private static partial void LogFlushFailed(ILogger logger, Exception exception);
}
