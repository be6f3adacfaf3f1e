using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using PresenceGrid.Client.Internal;

namespace PresenceGrid.Client;

/// <content>The NDJSON watch stream with reconnection.</content>
public sealed partial class PresenceGridClient
{
    /// <summary>
    /// Streams a user's presence batches (<c>GET /v1/watch/{userId}</c>, NDJSON, one <see cref="SyncBatch"/> per line) as they
    /// arrive, for as long as the caller enumerates.
    /// </summary>
    /// <remarks>
    /// <para>
    /// When the connection drops (an I/O or connection error, or the server ends the stream), the client waits a short
    /// back-off (<see cref="PresenceGridClientOptions.WatchReconnectDelay"/>, doubling up to
    /// <see cref="PresenceGridClientOptions.WatchMaxReconnectDelay"/>, reset by every batch), then reconnects to the next
    /// endpoint (with owner routing: to the configured endpoints, the owner being skipped for one
    /// <see cref="PresenceGridClientOptions.PlacementRefreshInterval"/>) with <c>since</c> set to the
    /// <see cref="SyncBatch.NextBatch"/> of the last batch it yielded. A line cut off by
    /// the drop is discarded, not yielded: the server sends it again after that token, so no batch is lost or duplicated.
    /// Connection failures are retried until <paramref name="cancellationToken"/> is cancelled; an HTTP error answer
    /// (for example 401 or 404) ends the enumeration with a <see cref="PresenceGridApiException"/>.
    /// </para>
    /// <para>Cancelling <paramref name="cancellationToken"/> (or the one given to <c>WithCancellation</c>) ends the enumeration with an
    /// <see cref="OperationCanceledException"/>.</para>
    /// </remarks>
    /// <param name="userId">The watching user.</param>
    /// <param name="since">The token to start after, or <see langword="null"/> to start from the current state.</param>
    /// <param name="cancellationToken">Stops the stream.</param>
    /// <returns>The batches, in order.</returns>
    /// <exception cref="PresenceGridApiException">The server answered with an error, or sent a line that is not a sync batch.</exception>
    public IAsyncEnumerable<SyncBatch> WatchAsync(string userId, string? since = null, CancellationToken cancellationToken = default) =>
        WatchAsync(userId, since, deviceId: null, cancellationToken);

    /// <summary>
    /// Streams a user's presence batches like <see cref="WatchAsync(string, string?, CancellationToken)"/>; with a
    /// <paramref name="deviceId"/>, the open watch also counts as that device's open sync, so the device stays online for as
    /// long as the caller enumerates.
    /// </summary>
    /// <remarks>
    /// <para>With a device, each connection of the stream starts with <see cref="StartSyncingAsync"/> (as each <c>/sync</c>
    /// request of a Matrix client does), the device's syncing lease is renewed with <see cref="KeepAliveAsync"/> every
    /// <see cref="PresenceGridClientOptions.SyncKeepAliveInterval"/> while the enumeration is open (also while it
    /// reconnects), and <see cref="StopSyncingAsync"/> is sent when the enumeration ends. A failed renewal is logged and
    /// retried at the next interval; it does not end the stream. If the process dies, the renewals stop and the silo ends
    /// the lease after 5 minutes.</para>
    /// <para>Reconnection, errors and cancellation are as for the overload without a device.</para>
    /// </remarks>
    /// <param name="userId">The watching user.</param>
    /// <param name="since">The token to start after, or <see langword="null"/> to start from the current state.</param>
    /// <param name="deviceId">The device whose sync the watch is, or <see langword="null"/> for a watch that does not affect presence.</param>
    /// <param name="cancellationToken">Stops the stream.</param>
    /// <returns>The batches, in order.</returns>
    /// <exception cref="PresenceGridApiException">The server answered with an error, or sent a line that is not a sync batch.</exception>
    public IAsyncEnumerable<SyncBatch> WatchAsync(string userId, string? since, string? deviceId, CancellationToken cancellationToken = default) =>
        WatchDeviceLease.RunAsync(
            this, userId, deviceId, (started, ct) => WatchStreamAsync(userId, since, deviceId, started, ct), _options.SyncKeepAliveInterval, _timeProvider, _logger, cancellationToken);

    /// <summary>The stream with reconnection; with a device, each connection first starts the device's sync and then calls <paramref name="started"/>.</summary>
    private async IAsyncEnumerable<SyncBatch> WatchStreamAsync(
        string userId, string? since, string? deviceId, Action started, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var failedTries = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var path = WithQuery($"v1/watch/{Escape(userId)}", ("since", since));
            Exception? interruption = null;
            string reason;
            HttpResponseMessage? response = null;
            var endpointIndex = -1;
            Uri? endpoint = null;
            try
            {
                if (deviceId is not null)
                {
                    // Like each /sync request of a Matrix client: the device (re)starts syncing with every connection.
                    await StartSyncingAsync(userId, deviceId, cancellationToken: cancellationToken).ConfigureAwait(false);
                    started();
                }

                (response, endpointIndex, endpoint) = await SendCoreAsync(
                    "Watch", HttpMethod.Get, path, null, AcceptNdjson, HttpCompletionOption.ResponseHeadersRead, TimeSpan.Zero, userId, cancellationToken).ConfigureAwait(false);
                reason = "stream ended";
            }
            catch (PresenceGridUnavailableException ex)
            {
                interruption = ex;
                reason = "no endpoint reachable";
            }

            if (response is not null)
            {
                using (response)
                {
                    var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                    var reader = PipeReader.Create(stream);
                    try
                    {
                        while (true)
                        {
                            SyncBatch? batch;
                            try
                            {
                                batch = await ReadBatchAsync(reader, response.StatusCode, cancellationToken).ConfigureAwait(false);
                            }
                            catch (Exception ex) when (ex is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
                            {
                                interruption = ex;
                                reason = "connection lost";
                                batch = null;
                            }

                            if (batch is null)
                            {
                                break;
                            }

                            since = batch.NextBatch;
                            failedTries = 0;
                            yield return batch;
                        }
                    }
                    finally
                    {
                        await reader.CompleteAsync().ConfigureAwait(false);
                    }
                }

                // The silo that dropped the stream may be going away: start the reconnection with the next endpoint.
                SkipEndpoint(endpointIndex, endpoint!);
            }

            var delay = WatchDeviceLease.ReconnectDelay(failedTries++, _options.WatchReconnectDelay, _options.WatchMaxReconnectDelay);
            PresenceGridClientLog.WatchReconnecting(_logger, reason, delay, interruption);
            await Task.Delay(delay, _timeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Reads the next complete (newline-terminated) non-empty line as a batch; <see langword="null"/> at the end of the
    /// stream, where an unterminated last line is discarded as cut off.
    /// </summary>
    private static async ValueTask<SyncBatch?> ReadBatchAsync(PipeReader reader, HttpStatusCode statusCode, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            while (TryReadLine(ref buffer, out var line))
            {
                if (IsBlank(line))
                {
                    continue;
                }

                SyncBatch batch;
                try
                {
                    batch = ParseBatch(line, statusCode);
                }
                finally
                {
                    reader.AdvanceTo(buffer.Start);
                }

                return batch;
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted || result.IsCanceled)
            {
                return null;
            }
        }
    }

    private static bool TryReadLine(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> line)
    {
        var newline = buffer.PositionOf((byte)'\n');
        if (newline is null)
        {
            line = default;
            return false;
        }

        line = buffer.Slice(0, newline.Value);
        buffer = buffer.Slice(buffer.GetPosition(1, newline.Value));
        return true;
    }

    private static bool IsBlank(ReadOnlySequence<byte> line)
    {
        foreach (var segment in line)
        {
            foreach (var b in segment.Span)
            {
                if (b is not ((byte)' ' or (byte)'\r' or (byte)'\t'))
                {
                    return false;
                }
            }
        }

        return true;
    }

    private static SyncBatch ParseBatch(ReadOnlySequence<byte> line, HttpStatusCode statusCode)
    {
        try
        {
            var jsonReader = new Utf8JsonReader(line);
            return JsonSerializer.Deserialize(ref jsonReader, PresenceGridJsonContext.Default.SyncBatch)
                ?? throw new JsonException("The line is JSON null.");
        }
        catch (JsonException ex)
        {
            throw new PresenceGridApiException(statusCode, PresenceGridErrorCodes.InvalidResponse, $"Watch: a stream line is not a sync batch ({ex.Message}).", ex);
        }
    }
}
