using Microsoft.Extensions.Logging;

namespace PresenceGrid.Runtime.Networking;

/// <summary>
/// The silo transport's log messages (event ids 5100-5199). Secrets are never logged. Next free: 5112.
/// </summary>
internal static partial class NetworkingLog
{
    [LoggerMessage(EventId = 5100, EventName = "TransportListening", Level = LogLevel.Information,
        Message = "Silo transport listening on {Endpoint} (cluster {ClusterId})")]
    public static partial void Listening(ILogger logger, string endpoint, string clusterId);

    [LoggerMessage(EventId = 5101, EventName = "HandshakeFailed", Level = LogLevel.Warning,
        Message = "Silo handshake ({Direction}, remote {RemoteEndPoint}) failed: {Reason}")]
    public static partial void HandshakeFailed(ILogger logger, string direction, string remoteEndPoint, string reason);

    [LoggerMessage(EventId = 5102, EventName = "ConnectionEstablished", Level = LogLevel.Debug,
        Message = "Connection to silo {Peer} established ({Direction}, remote {RemoteEndPoint})")]
    public static partial void ConnectionEstablished(ILogger logger, string peer, string direction, string remoteEndPoint);

    [LoggerMessage(EventId = 5103, EventName = "ConnectionClosed", Level = LogLevel.Information,
        Message = "Connection to silo {Peer} closed: {Reason}")]
    public static partial void ConnectionClosed(ILogger logger, string peer, string reason);

    [LoggerMessage(EventId = 5104, EventName = "DialFailed", Level = LogLevel.Warning,
        Message = "Could not connect to silo {Peer}; {FailedCount} queued messages fail, next attempt in {RetryDelayMs} ms: {Reason}")]
    public static partial void DialFailed(ILogger logger, string peer, int failedCount, long retryDelayMs, string reason);

    [LoggerMessage(EventId = 5105, EventName = "ProtocolViolation", Level = LogLevel.Warning,
        Message = "Silo {Peer} violated the frame protocol; closing the connection: {Reason}")]
    public static partial void ProtocolViolation(ILogger logger, string peer, string reason);

    [LoggerMessage(EventId = 5106, EventName = "PeerSilent", Level = LogLevel.Warning,
        Message = "Silo {Peer} sent nothing for {SilentMs} ms; closing the connection")]
    public static partial void PeerSilent(ILogger logger, string peer, long silentMs);

    [LoggerMessage(EventId = 5107, EventName = "HandlerFailed", Level = LogLevel.Error,
        Message = "The message handler threw for a {Kind} message from silo {Peer}")]
    public static partial void HandlerFailed(ILogger logger, Exception exception, string peer, SiloMessageKind kind);

    [LoggerMessage(EventId = 5108, EventName = "TransportStopped", Level = LogLevel.Information,
        Message = "Silo transport on {Endpoint} stopped ({Mode})")]
    public static partial void Stopped(ILogger logger, string endpoint, string mode);

    [LoggerMessage(EventId = 5109, EventName = "SiloDead", Level = LogLevel.Information,
        Message = "Silo {Peer} is dead: {QueuedCount} waiting messages fail and {ConnectionCount} connections close")]
    public static partial void SiloDead(ILogger logger, string peer, int queuedCount, int connectionCount);

    [LoggerMessage(EventId = 5110, EventName = "DisposeFailed", Level = LogLevel.Debug,
        Message = "Disposing the connection to {RemoteEndPoint} failed")]
    public static partial void DisposeFailed(ILogger logger, Exception exception, string remoteEndPoint);

    [LoggerMessage(EventId = 5111, EventName = "SendFailedHandlerThrew", Level = LogLevel.Error,
        Message = "The handler threw from OnSendFailed or OnConnectionClosed for silo {Peer}")]
    public static partial void CallbackFailed(ILogger logger, Exception exception, string peer);
}
