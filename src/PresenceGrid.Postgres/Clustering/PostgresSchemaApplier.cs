using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using PresenceGrid.Postgres.Options;
using PresenceGrid.Postgres.Schema;

namespace PresenceGrid.Postgres.Clustering;

/// <summary>
/// Applies <see cref="PostgresSchema"/> to the database <see cref="PostgresClusteringOptions"/> names, and logs what it did;
/// with <see cref="PostgresClusteringOptions.ApplySchema"/> off, only checks that it is in place.
/// </summary>
internal sealed partial class PostgresSchemaApplier(IOptions<PostgresClusteringOptions> options, ILogger<PostgresSchemaApplier> logger)
{
    /// <summary>Applies the schema (one transaction under the advisory lock; safe to call again), or only checks it when <see cref="PostgresClusteringOptions.ApplySchema"/> is off.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the schema is in place.</returns>
    /// <exception cref="InvalidOperationException">ApplySchema is off and a part is missing or older than this build ships.</exception>
    public async Task ApplyAsync(CancellationToken cancellationToken)
    {
        PostgresClusteringOptions value = options.Value;
        if (!value.ApplySchema)
        {
            await CheckAsync(value, cancellationToken).ConfigureAwait(false);
            return;
        }

        await ApplyAndLogAsync(
            ct => value.DataSource is { } dataSource
                ? PostgresSchema.ApplyAsync(dataSource, ct)
                : PostgresSchema.ApplyAsync(value.ConnectionString!, ct),
            logger,
            cancellationToken).ConfigureAwait(false);
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

    private async Task CheckAsync(PostgresClusteringOptions value, CancellationToken cancellationToken)
    {
        IReadOnlyList<(SchemaPart Part, int? RecordedVersion)> behind;
        try
        {
            behind = PostgresSchema.Behind(value.DataSource is { } dataSource
                ? await PostgresSchema.ReadRecordedAsync(dataSource, cancellationToken).ConfigureAwait(false)
                : await PostgresSchema.ReadRecordedAsync(value.ConnectionString!, cancellationToken).ConfigureAwait(false));
        }
        catch (NpgsqlException ex)
        {
            LogCheckFailed(logger, ex);
            throw;
        }

        if (behind.Count > 0)
        {
            string parts = string.Join(", ", behind.Select(b => $"{b.Part.Name} is at {(b.RecordedVersion is { } v ? $"version {v}" : "no version")}, this build needs {b.Part.Version}"));
            var ex = new InvalidOperationException(
                $"The PostgreSQL schema is not in place ({parts}) and {nameof(PostgresClusteringOptions)}.{nameof(PostgresClusteringOptions.ApplySchema)} is off: "
                + "run `pgrid db migrate --postgres \"<connection string>\"` with a role that may create tables, then start again.");
            LogCheckFailed(logger, ex);
            throw ex;
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

    [LoggerMessage(EventId = 7003, EventName = "PostgresSchemaCheckFailed", Level = LogLevel.Error,
        Message = "The PostgreSQL schema is not in place (ApplySchema is off); the silo or client cannot start.")]
    private static partial void LogCheckFailed(ILogger logger, Exception exception);
}
