using System.Net;
using Microsoft.Extensions.Logging;

namespace PresenceGrid.Cluster.Handshake;

/// <summary>
/// The cluster plumbing's log lines. Event ids 5500–5599 belong to PresenceGrid.Cluster
/// (docs/cluster-security.md lists them). No line carries the secret, a key or a proof.
/// </summary>
internal static partial class ClusterSecretLog
{
    [LoggerMessage(EventId = 5500, EventName = "ClusterSecretInboundRefused", Level = LogLevel.Warning,
        Message = "Refused the connection from {RemoteEndPoint} ({ConnectionId}): cluster-secret handshake failed, {Failure}: {Reason}")]
    public static partial void InboundRefused(ILogger logger, EndPoint? remoteEndPoint, string connectionId, HandshakeFailure failure, string reason);

    [LoggerMessage(EventId = 5501, EventName = "ClusterSecretOutboundRefused", Level = LogLevel.Warning,
        Message = "Gave up the connection to {RemoteEndPoint} ({ConnectionId}): cluster-secret handshake failed, {Failure}: {Reason}")]
    public static partial void OutboundRefused(ILogger logger, EndPoint? remoteEndPoint, string connectionId, HandshakeFailure failure, string reason);

    [LoggerMessage(EventId = 5502, EventName = "ClusterSecretHandshakeCompleted", Level = LogLevel.Debug,
        Message = "Cluster-secret handshake as {Role} with {RemoteEndPoint} completed in {ElapsedMilliseconds:0.000} ms")]
    public static partial void HandshakeCompleted(ILogger logger, HandshakeRole role, EndPoint? remoteEndPoint, double elapsedMilliseconds);
}
