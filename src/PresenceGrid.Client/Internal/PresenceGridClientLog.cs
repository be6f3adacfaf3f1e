using Microsoft.Extensions.Logging;

namespace PresenceGrid.Client.Internal;

/// <summary>
/// The client's log messages. EventIds 6000-6099 belong to the client SDK (next free: 6004). Paths, user ids, presence
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
}
