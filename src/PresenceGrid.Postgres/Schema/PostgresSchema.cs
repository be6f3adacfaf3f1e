using Npgsql;

namespace PresenceGrid.Postgres.Schema;

/// <summary>
/// The PostgreSQL schema PresenceGrid ships for Orleans' ADO.NET providers (the packages ship none):
/// SQL scripts embedded in this assembly (<c>Schema/*.sql</c>), one per <see cref="SchemaPart"/>,
/// each idempotent on its own, recorded with its version in the <c>presencegrid_schema</c> table.
/// </summary>
/// <remarks>
/// <see cref="ApplyAsync(NpgsqlDataSource, CancellationToken)"/> runs everything in one transaction
/// under a transaction-scoped advisory lock, so silos and clients that start together apply it one
/// after the other (concurrent <c>CREATE TABLE IF NOT EXISTS</c> or <c>CREATE OR REPLACE FUNCTION</c>
/// fail with unique or "tuple concurrently updated" errors), and the lock goes with the transaction
/// even when the connection dies. A part whose recorded version is newer than the shipped one was
/// applied by a newer build and is left alone, so an older silo started during a rolling upgrade does
/// not undo it.
/// </remarks>
internal static class PostgresSchema
{
    /// <summary>The advisory lock key: <c>hashtextextended</c> of this text, seed 0.</summary>
    internal const string LockName = "presencegrid:schema";

    private const string ResourcePrefix = "PresenceGrid.Postgres.Schema.";

    private static readonly string BookkeepingScript = ReadScript("SchemaParts.sql");

    /// <summary>The parts, applied in this order. Change a part's script only together with its version.</summary>
    internal static IReadOnlyList<SchemaPart> Parts { get; } =
    [
        new SchemaPart("orleans-clustering", 1, ReadScript("OrleansClustering.sql")),
        new SchemaPart("orleans-grain-state", 1, ReadScript("OrleansGrainState.sql")),
    ];

    /// <summary>Applies the schema through a data source created for the call.</summary>
    /// <param name="connectionString">An Npgsql connection string.</param>
    /// <param name="cancellationToken">Cancels the call (the transaction then rolls back).</param>
    /// <returns>What happened to each part, in <see cref="Parts"/> order.</returns>
    public static async Task<IReadOnlyList<SchemaPartOutcome>> ApplyAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using NpgsqlDataSource dataSource = NpgsqlDataSource.Create(connectionString);
        return await ApplyAsync(dataSource, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Applies every part whose recorded version is not newer than the shipped one, in one transaction under the advisory lock.</summary>
    /// <param name="dataSource">Where to apply it.</param>
    /// <param name="cancellationToken">Cancels the call (the transaction then rolls back).</param>
    /// <returns>What happened to each part, in <see cref="Parts"/> order.</returns>
    public static async Task<IReadOnlyList<SchemaPartOutcome>> ApplyAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        await using NpgsqlConnection connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);

        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended(@name, 0))", connection, transaction))
        {
            lockCommand.Parameters.AddWithValue("name", LockName);
            await lockCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await ExecuteScriptAsync(BookkeepingScript, connection, transaction, cancellationToken).ConfigureAwait(false);

        var outcomes = new List<SchemaPartOutcome>(Parts.Count);
        foreach (SchemaPart part in Parts)
        {
            int? recorded = await ReadVersionAsync(part.Name, connection, transaction, cancellationToken).ConfigureAwait(false);
            var outcome = new SchemaPartOutcome(part.Name, part.Version, recorded);
            if (outcome.Applied)
            {
                await ExecuteScriptAsync(part.Script, connection, transaction, cancellationToken).ConfigureAwait(false);
                await RecordVersionAsync(part, connection, transaction, cancellationToken).ConfigureAwait(false);
            }

            outcomes.Add(outcome);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return outcomes;
    }

    /// <summary>Reads <c>presencegrid_schema</c> through a data source created for the call, without changing anything.</summary>
    /// <param name="connectionString">An Npgsql connection string.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The recorded parts, by name; empty when the table does not exist.</returns>
    public static async Task<IReadOnlyList<RecordedSchemaPart>> ReadRecordedAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using NpgsqlDataSource dataSource = NpgsqlDataSource.Create(connectionString);
        return await ReadRecordedAsync(dataSource, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads <c>presencegrid_schema</c> without changing anything; empty when the table does not exist.</summary>
    /// <param name="dataSource">The database to read.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The recorded parts, by name.</returns>
    public static async Task<IReadOnlyList<RecordedSchemaPart>> ReadRecordedAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        await using NpgsqlConnection connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (var exists = new NpgsqlCommand("SELECT to_regclass('presencegrid_schema') IS NOT NULL", connection))
        {
            if (await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not true)
            {
                return [];
            }
        }

        await using var command = new NpgsqlCommand("SELECT part, version, applied_at FROM presencegrid_schema ORDER BY part", connection);
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var recorded = new List<RecordedSchemaPart>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            recorded.Add(new RecordedSchemaPart(reader.GetString(0), reader.GetInt32(1), reader.GetFieldValue<DateTimeOffset>(2)));
        }

        return recorded;
    }

    /// <summary>The shipped parts a database recorded at no version or at an older one than this build ships.</summary>
    /// <param name="recorded">What <see cref="ReadRecordedAsync(NpgsqlDataSource, CancellationToken)"/> read.</param>
    /// <returns>Each such part with the version recorded (<see langword="null"/> for none), in <see cref="Parts"/> order.</returns>
    public static IReadOnlyList<(SchemaPart Part, int? RecordedVersion)> Behind(IReadOnlyList<RecordedSchemaPart> recorded)
    {
        ArgumentNullException.ThrowIfNull(recorded);
        return
        [
            .. Parts
                .Select(part => (Part: part, RecordedVersion: recorded.FirstOrDefault(r => r.Part == part.Name)?.Version))
                .Where(p => p.RecordedVersion is not { } version || version < p.Part.Version),
        ];
    }

    private static async Task ExecuteScriptAsync(string script, NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(script, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<int?> ReadVersionAsync(string part, NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT version FROM presencegrid_schema WHERE part = @part", connection, transaction);
        command.Parameters.AddWithValue("part", part);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is int version ? version : null;
    }

    private static async Task RecordVersionAsync(SchemaPart part, NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        // applied_at stays the time this version was first applied: re-applying the same version only repairs.
        await using var command = new NpgsqlCommand(
            """
            INSERT INTO presencegrid_schema (part, version) VALUES (@part, @version)
            ON CONFLICT (part) DO UPDATE SET version = EXCLUDED.version, applied_at = now()
            WHERE presencegrid_schema.version <> EXCLUDED.version
            """,
            connection,
            transaction);
        command.Parameters.AddWithValue("part", part.Name);
        command.Parameters.AddWithValue("version", part.Version);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static string ReadScript(string fileName)
    {
        using Stream stream = typeof(PostgresSchema).Assembly.GetManifestResourceStream(ResourcePrefix + fileName)
            ?? throw new InvalidOperationException($"The schema script {fileName} is not embedded in {typeof(PostgresSchema).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
