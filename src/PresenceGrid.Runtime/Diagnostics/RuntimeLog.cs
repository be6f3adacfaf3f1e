using Microsoft.Extensions.Logging;

namespace PresenceGrid.Runtime.Diagnostics;

/// <summary>
/// The runtime's log messages. Event ids: 1000-1099 silo lifecycle, 2000-2099 activations,
/// 2100-2199 calls, 2200-2299 timers, 2300-2399 state. Next free: 1003, 2006, 2103, 2201, 2301.
/// </summary>
internal static partial class RuntimeLog
{
    [LoggerMessage(EventId = 1000, EventName = "SiloStarted", Level = LogLevel.Information,
        Message = "Silo {SiloName} ({SiloAddress}) started: {GrainClassCount} grain classes known")]
    public static partial void SiloStarted(ILogger logger, string siloName, string siloAddress, int grainClassCount);

    [LoggerMessage(EventId = 1001, EventName = "SiloStopped", Level = LogLevel.Information,
        Message = "Silo {SiloName} stopped; {ActivationCount} activations deactivated")]
    public static partial void SiloStopped(ILogger logger, string siloName, int activationCount);

    [LoggerMessage(EventId = 1002, EventName = "LeaveFailed", Level = LogLevel.Warning,
        Message = "Could not tell the cluster that this silo leaves; peers will find out when its lease lapses")]
    public static partial void LeaveFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2000, EventName = "ActivationFailed", Level = LogLevel.Error,
        Message = "Activation of grain {GrainId} failed; {PendingCount} waiting requests are failed")]
    public static partial void ActivationFailed(ILogger logger, Exception exception, GrainId grainId, int pendingCount);

    [LoggerMessage(EventId = 2001, EventName = "DeactivationFailed", Level = LogLevel.Warning,
        Message = "OnDeactivateAsync of grain {GrainId} failed ({Reason})")]
    public static partial void DeactivationFailed(ILogger logger, Exception exception, GrainId grainId, DeactivationReasonCode reason);

    [LoggerMessage(EventId = 2002, EventName = "Deactivated", Level = LogLevel.Debug,
        Message = "Grain {GrainId} deactivated ({Reason})")]
    public static partial void Deactivated(ILogger logger, GrainId grainId, DeactivationReasonCode reason);

    [LoggerMessage(EventId = 2003, EventName = "DuplicateActivation", Level = LogLevel.Information,
        Message = "Grain {GrainId} is already active as {Winner}; this activation forwards its requests")]
    public static partial void DuplicateActivation(ILogger logger, GrainId grainId, string winner);

    [LoggerMessage(EventId = 2004, EventName = "ContinuationFailed", Level = LogLevel.Error,
        Message = "A continuation of grain {GrainId} threw")]
    public static partial void ContinuationFailed(ILogger logger, Exception exception, GrainId grainId);

    [LoggerMessage(EventId = 2005, EventName = "DirectoryUnregisterFailed", Level = LogLevel.Warning,
        Message = "Could not remove the directory entry of grain {GrainId}")]
    public static partial void DirectoryUnregisterFailed(ILogger logger, Exception exception, GrainId grainId);

    [LoggerMessage(EventId = 2100, EventName = "OneWayCallFailed", Level = LogLevel.Warning,
        Message = "One-way call {Method} to grain {GrainId} failed")]
    public static partial void OneWayCallFailed(ILogger logger, Exception exception, string method, GrainId grainId);

    [LoggerMessage(EventId = 2101, EventName = "RequestRejected", Level = LogLevel.Warning,
        Message = "Call {Method} to grain {GrainId} was rejected: {Reason}")]
    public static partial void RequestRejected(ILogger logger, string method, GrainId grainId, string reason);

    [LoggerMessage(EventId = 2102, EventName = "RequestTimedOut", Level = LogLevel.Warning,
        Message = "Call {Method} to grain {GrainId} timed out after {TimeoutMs} ms")]
    public static partial void RequestTimedOut(ILogger logger, string method, GrainId grainId, double timeoutMs);

    [LoggerMessage(EventId = 2200, EventName = "TimerTickFailed", Level = LogLevel.Warning,
        Message = "A timer tick of grain {GrainId} failed")]
    public static partial void TimerTickFailed(ILogger logger, Exception exception, GrainId grainId);

    [LoggerMessage(EventId = 2300, EventName = "InconsistentState", Level = LogLevel.Warning,
        Message = "Grain {GrainId} lost a state write race; it deactivates after this request")]
    public static partial void InconsistentState(ILogger logger, GrainId grainId);
}
