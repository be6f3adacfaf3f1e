using Microsoft.Extensions.Logging;

namespace PresenceGrid.Routing;

/// <summary>
/// Log messages of the presence router and module loading. Event ids: 3000-3099 router pipeline, 3100-3199 module loading.
/// Presence payloads and returned user ids are never logged. Next free: 3005, 3104.
/// </summary>
internal static partial class RoutingLog
{
    [LoggerMessage(EventId = 3000, EventName = "RouterModuleCallbackFailed", Level = LogLevel.Warning,
        Message = "Presence router module {Module} ({Location}): {Callback} threw; its result is skipped")]
    public static partial void CallbackFailed(ILogger logger, string module, string location, string callback, Exception exception);

    [LoggerMessage(EventId = 3001, EventName = "RouterModuleCallbackTimedOut", Level = LogLevel.Warning,
        Message = "Presence router module {Module} ({Location}): {Callback} did not complete within {TimeoutMs} ms; its result is skipped")]
    public static partial void CallbackTimedOut(ILogger logger, string module, string location, string callback, double timeoutMs);

    [LoggerMessage(EventId = 3002, EventName = "RouterModuleCallbackReturnedNull", Level = LogLevel.Warning,
        Message = "Presence router module {Module} ({Location}): {Callback} returned null instead of a result; skipped")]
    public static partial void CallbackReturnedNull(ILogger logger, string module, string location, string callback);

    [LoggerMessage(EventId = 3003, EventName = "RouterModuleResultEntryInvalid", Level = LogLevel.Warning,
        Message = "Presence router module {Module} ({Location}): entry {EntryIndex} of the {Callback} result has {Problem}; "
            + "the remaining entries of this result are skipped ({MergedEntries} merged)")]
    public static partial void ResultEntryInvalid(ILogger logger, string module, string location, string callback, int entryIndex, string problem, int mergedEntries);

    [LoggerMessage(EventId = 3004, EventName = "RouterModuleInvalidUserIdsDropped", Level = LogLevel.Warning,
        Message = "Presence router module {Module} ({Location}): {Callback} returned {Count} invalid user ids; they are dropped")]
    public static partial void InvalidUserIdsDropped(ILogger logger, string module, string location, string callback, int count);

    [LoggerMessage(EventId = 3100, EventName = "ModuleLoaded", Level = LogLevel.Information,
        Message = "Loaded module {Module} ({Location})")]
    public static partial void ModuleLoaded(ILogger logger, string module, string location);

    [LoggerMessage(EventId = 3101, EventName = "LegacyRouterRegisteredItself", Level = LogLevel.Debug,
        Message = "Legacy presence router {Module} registered its callbacks in its constructor; its methods are not wrapped again")]
    public static partial void LegacyRouterRegisteredItself(ILogger logger, string module);

    [LoggerMessage(EventId = 3102, EventName = "LegacyRouterHasNoCallbacks", Level = LogLevel.Warning,
        Message = "Legacy presence router {Module} defines neither GetUsersForStates(Async) nor GetInterestedUsers(Async); it routes nothing")]
    public static partial void LegacyRouterHasNoCallbacks(ILogger logger, string module);

    [LoggerMessage(EventId = 3103, EventName = "ModuleBackgroundCallFailed", Level = LogLevel.Warning,
        Message = "Module {Module} ({Location}): a background call threw; a looping call runs again at its next period")]
    public static partial void BackgroundCallFailed(ILogger logger, string module, string location, Exception exception);
}
