using Microsoft.Extensions.Logging;

namespace PresenceGrid.Runtime.Postgres;

/// <summary>
/// The PostgreSQL providers' log messages. Event ids 5000-5099: 5000-5019 schema and connections,
/// 5020-5039 membership, 5040-5059 directory, 5060-5079 storage. Never logs connection strings.
/// </summary>
internal static partial class PostgresLog
{
    [LoggerMessage(EventId = 5000, EventName = "SchemaReady", Level = LogLevel.Information,
        Message = "PostgreSQL schema {Schema} is at version {Version} (applied {Applied} migrations)")]
    public static partial void SchemaReady(ILogger logger, string schema, int version, int applied);

    [LoggerMessage(EventId = 5001, EventName = "TransientFailure", Level = LogLevel.Warning,
        Message = "PostgreSQL operation {Operation} failed (try {Attempt} of {MaxAttempts}); retrying in {DelayMs} ms")]
    public static partial void TransientFailure(ILogger logger, Exception exception, string operation, int attempt, int maxAttempts, int delayMs);

    [LoggerMessage(EventId = 5002, EventName = "OperationGaveUp", Level = LogLevel.Error,
        Message = "PostgreSQL operation {Operation} gave up after {Attempts} tries")]
    public static partial void OperationGaveUp(ILogger logger, Exception exception, string operation, int attempts);

    [LoggerMessage(EventId = 5020, EventName = "ListenerConnected", Level = LogLevel.Debug,
        Message = "Membership listener is listening on channel {Channel} (backend {ProcessId})")]
    public static partial void ListenerConnected(ILogger logger, string channel, int processId);

    [LoggerMessage(EventId = 5021, EventName = "ListenerFailed", Level = LogLevel.Warning,
        Message = "Membership listener lost its connection; reconnecting in {DelayMs} ms")]
    public static partial void ListenerFailed(ILogger logger, Exception exception, int delayMs);

    [LoggerMessage(EventId = 5022, EventName = "VersionPollFailed", Level = LogLevel.Warning,
        Message = "Membership version poll failed")]
    public static partial void VersionPollFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 5023, EventName = "SilosDeclaredDead", Level = LogLevel.Warning,
        Message = "Declared {Count} silos dead (lease lapsed): {Silos}")]
    public static partial void SilosDeclaredDead(ILogger logger, int count, string silos);

    [LoggerMessage(EventId = 5024, EventName = "SiloJoined", Level = LogLevel.Information,
        Message = "Silo {Name} joined the membership table as {SiloAddress}")]
    public static partial void SiloJoined(ILogger logger, string name, string siloAddress);

    [LoggerMessage(EventId = 5025, EventName = "VersionHintHandlerFailed", Level = LogLevel.Error,
        Message = "A VersionHint handler threw for version {Version}")]
    public static partial void VersionHintHandlerFailed(ILogger logger, Exception exception, long version);

    [LoggerMessage(EventId = 5040, EventName = "DeadSiloEntriesRemoved", Level = LogLevel.Information,
        Message = "Removed {Count} grain directory entries of dead silos")]
    public static partial void DeadSiloEntriesRemoved(ILogger logger, int count);

    [LoggerMessage(EventId = 5060, EventName = "BatchFailed", Level = LogLevel.Error,
        Message = "A group commit of {Count} state writes failed")]
    public static partial void BatchFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(EventId = 5061, EventName = "BatcherStopped", Level = LogLevel.Debug,
        Message = "The state write batcher stopped after {Transactions} transactions and {Rows} rows")]
    public static partial void BatcherStopped(ILogger logger, long transactions, long rows);
}
