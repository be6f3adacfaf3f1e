using Microsoft.Extensions.Logging;

namespace PresenceGrid.Client.Internal;

/// <summary>
/// The client's log messages. EventIds 6000-6099 belong to the client SDK (next free: 6009). Paths, user ids, presence
/// payloads and tokens are never logged: only the operation name and the endpoint.
/// </summary>
internal static partial class PresenceGridClientLog
{
    [LoggerMessage(EventId = 6001, EventName = "EndpointFailed", Level = LogLevel.Warning,
        Message = "{Operation} failed on endpoint {Endpoint} ({Reason}); trying the next endpoint.")]
    public static partial void EndpointFailed(ILogger logger, string operation, Uri endpoint, string reason, Exception exception);

    [LoggerMessage(EventId = 6002, EventName = "AllEndpointsFailed", Level = LogLevel.Error,
        Message = "{Operation} failed on all {EndpointCount} endpoints.")]
    public static partial void AllEndpointsFailed(ILogger logger, string operation, int endpointCount);

    [LoggerMessage(EventId = 6003, EventName = "WatchReconnecting", Level = LogLevel.Information,
        Message = "Watch stream interrupted ({Reason}); reconnecting in {Delay} from the last batch token.")]
    public static partial void WatchReconnecting(ILogger logger, string reason, TimeSpan delay, Exception? exception);

    [LoggerMessage(EventId = 6004, EventName = "OwnerEndpointFailed", Level = LogLevel.Warning,
        Message = "{Operation} failed on the owner silo {Endpoint} ({Reason}); falling back to the configured endpoints.")]
    public static partial void OwnerEndpointFailed(ILogger logger, string operation, Uri endpoint, string reason, Exception exception);

    [LoggerMessage(EventId = 6005, EventName = "PlacementRefreshed", Level = LogLevel.Debug,
        Message = "Placement view refreshed: {SiloCount} active silos, {RoutableCount} with a usable http_endpoint (membership version {Version}).")]
    public static partial void PlacementRefreshed(ILogger logger, int siloCount, int routableCount, long version);

    [LoggerMessage(EventId = 6006, EventName = "PlacementRefreshFailed", Level = LogLevel.Warning,
        Message = "Refreshing the placement view failed; user requests keep the last view (or the configured endpoints without one).")]
    public static partial void PlacementRefreshFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 6007, EventName = "SyncKeepAliveFailed", Level = LogLevel.Warning,
        Message = "Renewing a watching device's syncing lease failed; retrying at the next interval.")]
    public static partial void SyncKeepAliveFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 6008, EventName = "SyncStopFailed", Level = LogLevel.Warning,
        Message = "Stopping a watching device's sync at the end of the watch failed; the silo ends it when its lease runs out.")]
    public static partial void SyncStopFailed(ILogger logger, Exception exception);
}
