using Microsoft.Extensions.Logging;

namespace PresenceGrid.Runtime.Membership;

/// <summary>Cluster log messages. Event ids 1100-1199. Next free: 1114.</summary>
internal static partial class ClusterLog
{
    [LoggerMessage(EventId = 1100, EventName = "SiloJoined", Level = LogLevel.Information,
        Message = "Silo {SiloName} joined the cluster as {SiloAddress}")]
    public static partial void Joined(ILogger logger, string siloName, string siloAddress);

    [LoggerMessage(EventId = 1101, EventName = "MembershipChanged", Level = LogLevel.Information,
        Message = "Membership version {Version}: {ActiveCount} active silos ({Active})")]
    public static partial void ViewChanged(ILogger logger, long version, int activeCount, string active);

    [LoggerMessage(EventId = 1102, EventName = "SiloDeclaredDead", Level = LogLevel.Warning,
        Message = "Silo {SiloAddress} missed its lease and was declared dead")]
    public static partial void DeclaredDead(ILogger logger, string siloAddress);

    [LoggerMessage(EventId = 1103, EventName = "SelfDead", Level = LogLevel.Critical,
        Message = "This silo ({SiloAddress}) was declared dead by the cluster; it stops at once")]
    public static partial void SelfDead(ILogger logger, string siloAddress);

    [LoggerMessage(EventId = 1104, EventName = "LeaseRenewFailed", Level = LogLevel.Warning,
        Message = "Could not renew this silo's lease; it stops admitting grain requests {FenceInMs} ms from now unless a renewal succeeds")]
    public static partial void RenewFailed(ILogger logger, Exception exception, long fenceInMs);

    [LoggerMessage(EventId = 1105, EventName = "Fenced", Level = LogLevel.Error,
        Message = "This silo's lease is about to lapse: it admits no grain requests until a renewal succeeds")]
    public static partial void Fenced(ILogger logger);

    [LoggerMessage(EventId = 1106, EventName = "Unfenced", Level = LogLevel.Information,
        Message = "Lease renewed: this silo admits grain requests again")]
    public static partial void Unfenced(ILogger logger);

    [LoggerMessage(EventId = 1107, EventName = "MembershipReadFailed", Level = LogLevel.Warning,
        Message = "Could not read or update the membership table")]
    public static partial void TableFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1108, EventName = "RemoteCallFailed", Level = LogLevel.Debug,
        Message = "A call to silo {SiloAddress} failed before it was sent: {Reason}")]
    public static partial void SendFailed(ILogger logger, string siloAddress, string reason);

    [LoggerMessage(EventId = 1109, EventName = "BadSiloMessage", Level = LogLevel.Warning,
        Message = "A message from silo {SiloAddress} could not be handled ({Kind})")]
    public static partial void BadMessage(ILogger logger, Exception exception, string siloAddress, string kind);

    [LoggerMessage(EventId = 1110, EventName = "ChannelHandlerFailed", Level = LogLevel.Error,
        Message = "The handler of system channel {Channel} failed on a message from {SiloAddress}")]
    public static partial void ChannelFailed(ILogger logger, Exception exception, string channel, string siloAddress);

    [LoggerMessage(EventId = 1111, EventName = "SiloLeft", Level = LogLevel.Information,
        Message = "Silo {SiloAddress} left the cluster")]
    public static partial void Left(ILogger logger, string siloAddress);

    [LoggerMessage(EventId = 1113, EventName = "DirectorySwept", Level = LogLevel.Information,
        Message = "Removed {Count} directory entries of dead silos")]
    public static partial void DirectorySwept(ILogger logger, int count);

    [LoggerMessage(EventId = 1112, EventName = "ConnectionLost", Level = LogLevel.Information,
        Message = "The connection to silo {SiloAddress} closed; {Count} calls in flight to it failed")]
    public static partial void ConnectionLost(ILogger logger, string siloAddress, int count);

    [LoggerMessage(EventId = 1114, EventName = "RequestRerouted", Level = LogLevel.Information,
        Message = "{Request} could not be sent to silo {SiloAddress}, which is no longer active; routed again")]
    public static partial void Rerouted(ILogger logger, string request, string siloAddress);
}
