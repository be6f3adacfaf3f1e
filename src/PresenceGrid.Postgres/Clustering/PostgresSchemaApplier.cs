using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using PresenceGrid.Postgres.Options;
using PresenceGrid.Postgres.Schema;

namespace PresenceGrid.Postgres.Clustering;

/// <summary>Applies <see cref="PostgresSchema"/> to the database <see cref="PostgresClusteringOptions"/> names, and logs what it did.</summary>
internal sealed partial class PostgresSchemaApplier(IOptions<PostgresClusteringOptions> options, ILogger<PostgresSchemaApplier> logger)
{
    /// <summary>Applies the schema (one transaction under the advisory lock; safe to call again).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the schema is in place.</returns>
    public Task ApplyAsync(CancellationToken cancellationToken)
    {
        PostgresClusteringOptions value = options.Value;
        return ApplyAndLogAsync(
            ct => value.DataSource is { } dataSource
                ? PostgresSchema.ApplyAsync(dataSource, ct)
                : PostgresSchema.ApplyAsync(value.ConnectionString!, ct),
            logger,
            cancellationToken);
    }

    /// <summary>Runs <paramref name="apply"/> and logs what it did with each part, or its failure.</summary>
    /// <param name="apply">Applies the schema to one database.</param>
    /// <param name="logger">Where the outcome goes.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the schema is in place.</returns>
    internal static async Task ApplyAndLogAsync(
        Func<CancellationToken, Task<IReadOnlyList<SchemaPartOutcome>>> apply, ILogger logger, CancellationToken cancellationToken)
    {
        IReadOnlyList<SchemaPartOutcome> outcomes;
        try
        {
            outcomes = await apply(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            LogApplyFailed(logger, ex);
            throw;
        }

        foreach (SchemaPartOutcome outcome in outcomes)
        {
            if (outcome.Applied)
            {
                LogPartApplied(logger, outcome.Part, outcome.ShippedVersion, outcome.RecordedVersion);
            }
            else
            {
                LogPartNewer(logger, outcome.Part, outcome.RecordedVersion, outcome.ShippedVersion);
            }
        }
    }

    [LoggerMessage(EventId = 7000, EventName = "PostgresSchemaPartApplied", Level = LogLevel.Information,
        Message = "PostgreSQL schema part {Part} applied at version {Version} (recorded before: {RecordedVersion}).")]
    private static partial void LogPartApplied(ILogger logger, string part, int version, int? recordedVersion);

    [LoggerMessage(EventId = 7001, EventName = "PostgresSchemaPartNewer", Level = LogLevel.Warning,
        Message = "PostgreSQL schema part {Part} is at version {RecordedVersion}, newer than this build's {Version}: left as it is.")]
    private static partial void LogPartNewer(ILogger logger, string part, int? recordedVersion, int version);

    [LoggerMessage(EventId = 7002, EventName = "PostgresSchemaApplyFailed", Level = LogLevel.Error,
        Message = "Applying the PostgreSQL schema failed; the silo or client cannot start.")]
    private static partial void LogApplyFailed(ILogger logger, Exception exception);
}
