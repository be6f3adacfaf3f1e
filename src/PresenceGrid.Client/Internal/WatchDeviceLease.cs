using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace PresenceGrid.Client.Internal;

/// <summary>
/// What every transport's watch does around its stream: with a device, the open watch is the device's open sync (each
/// connection starts it, its lease is renewed while the enumeration is open, and it is stopped when the enumeration
/// ends); and the back-off between reconnections.
/// </summary>
internal static class WatchDeviceLease
{
    /// <summary>
    /// Yields <paramref name="stream"/>'s batches; with a device, renews its syncing lease every <paramref name="keepAliveInterval"/>
    /// from the first connection's start (the stream calls the action it is given after each start of the device's sync)
    /// and stops the device's sync when the enumeration ends.
    /// </summary>
    public static async IAsyncEnumerable<SyncBatch> RunAsync(
        IPresenceGridClient client,
        string userId,
        string? deviceId,
        Func<Action, CancellationToken, IAsyncEnumerable<SyncBatch>> stream,
        TimeSpan keepAliveInterval,
        TimeProvider timeProvider,
        ILogger logger,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        if (deviceId is not null)
        {
            ArgumentException.ThrowIfNullOrEmpty(deviceId);
        }

        using var renewalsStop = new CancellationTokenSource();
        Task? renewals = null;
        try
        {
            await foreach (var batch in stream(() => renewals ??= RenewAsync(client, userId, deviceId!, keepAliveInterval, timeProvider, logger, renewalsStop.Token), cancellationToken)
                .ConfigureAwait(false))
            {
                yield return batch;
            }
        }
        finally
        {
            if (renewals is not null)
            {
                await renewalsStop.CancelAsync().ConfigureAwait(false);
                await renewals.ConfigureAwait(false);
                await StopSyncingQuietlyAsync(client, userId, deviceId!, logger).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The wait before reconnection attempt <paramref name="failedTries"/> + 1: <paramref name="initial"/>, doubling up to <paramref name="max"/>.</summary>
    public static TimeSpan ReconnectDelay(int failedTries, TimeSpan initial, TimeSpan max)
    {
        var delay = initial;
        for (var i = 0; i < failedTries && delay < max; i++)
        {
            delay *= 2;
        }

        return delay < max ? delay : max;
    }

    /// <summary>Renews the device's syncing lease every <paramref name="interval"/> until stopped; never throws.</summary>
    private static async Task RenewAsync(
        IPresenceGridClient client, string userId, string deviceId, TimeSpan interval, TimeProvider timeProvider, ILogger logger, CancellationToken stop)
    {
        try
        {
            while (true)
            {
                await Task.Delay(interval, timeProvider, stop).ConfigureAwait(false);
                try
                {
                    await client.KeepAliveAsync(userId, deviceId, stop).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    PresenceGridClientLog.SyncKeepAliveFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The watch ended.
        }
    }

    /// <summary>Ends the device's sync when its watch ends; a failure is logged (the silo's lease ends the sync anyway).</summary>
    private static async Task StopSyncingQuietlyAsync(IPresenceGridClient client, string userId, string deviceId, ILogger logger)
    {
        try
        {
            await client.StopSyncingAsync(userId, deviceId, cancellationToken: CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is PresenceGridApiException or ObjectDisposedException)
        {
            PresenceGridClientLog.SyncStopFailed(logger, ex);
        }
    }
}
