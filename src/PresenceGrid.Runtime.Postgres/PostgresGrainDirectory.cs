using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using PresenceGrid.Runtime.GrainDirectory;

namespace PresenceGrid.Runtime.Postgres;

/// <summary>
/// The grain directory in PostgreSQL: one row per grain. Registration is first-writer-wins in one
/// round trip; an entry is taken over only when it equals the caller's previous address or when its
/// silo is dead (or gone) in the membership table, never because a lease merely lapsed.
/// </summary>
internal sealed class PostgresGrainDirectory : IGrainDirectory
{
    private const int SweepChunk = 1000;

    private readonly PostgresCluster _cluster;
    private readonly ILogger _logger;

    public PostgresGrainDirectory(PostgresCluster cluster)
    {
        _cluster = cluster;
        _logger = cluster.LoggerFactory.CreateLogger<PostgresGrainDirectory>();
    }

    public async ValueTask<GrainAddress> RegisterAsync(GrainAddress address, GrainAddress? previousAddress)
    {
        ArgumentNullException.ThrowIfNull(address);
        string grainId = address.GrainId.ToString();
        while (true)
        {
            // Idempotent: a retry after a lost reply finds its own entry as the winner.
            GrainAddress? winner = await _cluster.RunAsync(
                "directory register",
                async (connection, ct) =>
                {
                    // Statement 1 inserts, or takes over an expected-stale or dead-owned entry; ON
                    // CONFLICT ... WHERE locks the row even when it refuses, and returns nothing then.
                    // Statement 2 runs with a fresh snapshot, so it sees the committed winner.
                    await using var batch = new NpgsqlBatch(connection)
                    {
                        BatchCommands =
                        {
                            new NpgsqlBatchCommand(
                                """
                                INSERT INTO grain_directory AS d (grain_id, silo_id, silo_epoch, activation_id)
                                VALUES (@grain, @silo, @epoch, @activation)
                                ON CONFLICT (grain_id) DO UPDATE
                                   SET silo_id = excluded.silo_id, silo_epoch = excluded.silo_epoch,
                                       activation_id = excluded.activation_id, registered_at = now()
                                 WHERE (d.activation_id = @prev_activation AND d.silo_id = @prev_silo AND d.silo_epoch = @prev_epoch)
                                    OR NOT EXISTS (SELECT 1 FROM silo m WHERE m.silo_id = d.silo_id AND m.epoch = d.silo_epoch AND m.status < 4)
                                RETURNING d.activation_id
                                """)
                            {
                                Parameters =
                                {
                                    new NpgsqlParameter<string>("grain", grainId),
                                    new NpgsqlParameter<string>("silo", address.Silo.Endpoint),
                                    new NpgsqlParameter<long>("epoch", address.Silo.Generation),
                                    new NpgsqlParameter<Guid>("activation", address.ActivationId),
                                    new NpgsqlParameter<Guid?>("prev_activation", NpgsqlDbType.Uuid) { TypedValue = previousAddress?.ActivationId },
                                    new NpgsqlParameter<string?>("prev_silo", NpgsqlDbType.Text) { TypedValue = previousAddress?.Silo.Endpoint },
                                    new NpgsqlParameter<long?>("prev_epoch", NpgsqlDbType.Bigint) { TypedValue = previousAddress?.Silo.Generation },
                                },
                            },
                            new NpgsqlBatchCommand("SELECT silo_id, silo_epoch, activation_id FROM grain_directory WHERE grain_id = @grain")
                            {
                                Parameters = { new NpgsqlParameter<string>("grain", grainId) },
                            },
                        },
                    };
                    await using NpgsqlDataReader reader = await batch.ExecuteReaderAsync(ct).ConfigureAwait(false);
                    bool won = await reader.ReadAsync(ct).ConfigureAwait(false);
                    await reader.NextResultAsync(ct).ConfigureAwait(false);
                    if (won)
                    {
                        return address;
                    }

                    return await reader.ReadAsync(ct).ConfigureAwait(false)
                        ? new GrainAddress(address.GrainId, reader.GetGuid(2), new SiloAddress(reader.GetString(0), reader.GetInt64(1)))
                        : null;
                },
                CancellationToken.None).ConfigureAwait(false);

            // Null: the winner unregistered between the two statements; try again.
            if (winner is not null)
            {
                return winner;
            }
        }
    }

    public async ValueTask UnregisterAsync(GrainAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        await _cluster.RunAsync(
            "directory unregister",
            async (connection, ct) =>
            {
                await using var command = new NpgsqlCommand("DELETE FROM grain_directory WHERE grain_id = @grain AND activation_id = @activation", connection);
                command.Parameters.Add(new NpgsqlParameter<string>("grain", address.GrainId.ToString()));
                command.Parameters.Add(new NpgsqlParameter<Guid>("activation", address.ActivationId));
                await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            },
            CancellationToken.None).ConfigureAwait(false);
    }

    public async ValueTask<GrainAddress?> LookupAsync(GrainId grainId) =>
        await _cluster.RunAsync(
            "directory lookup",
            async (connection, ct) =>
            {
                await using var command = new NpgsqlCommand("SELECT silo_id, silo_epoch, activation_id FROM grain_directory WHERE grain_id = @grain", connection);
                command.Parameters.Add(new NpgsqlParameter<string>("grain", grainId.ToString()));
                await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                return await reader.ReadAsync(ct).ConfigureAwait(false)
                    ? new GrainAddress(grainId, reader.GetGuid(2), new SiloAddress(reader.GetString(0), reader.GetInt64(1)))
                    : null;
            },
            CancellationToken.None).ConfigureAwait(false);

    /// <summary>
    /// Deletes the entries of silos that are dead in the membership table, in chunks of 1000 rows
    /// (one short transaction each). Entries of silos absent from the table are left to takeover.
    /// </summary>
    /// <param name="cancellationToken">Cancels between chunks.</param>
    /// <returns>How many entries were deleted.</returns>
    public Task<int> RemoveDeadSiloEntriesAsync(CancellationToken cancellationToken) => RemoveDeadSilosAsync(cancellationToken);

    /// <summary>Deletes the entries of dead silos in chunks.</summary>
    /// <param name="cancellationToken">Cancels between chunks.</param>
    /// <returns>How many entries were deleted.</returns>
    public async Task<int> RemoveDeadSilosAsync(CancellationToken cancellationToken)
    {
        int total = 0;
        while (true)
        {
            int deleted = await _cluster.RunAsync(
                "directory dead-silo sweep",
                async (connection, ct) =>
                {
                    await using var command = new NpgsqlCommand(
                        """
                        DELETE FROM grain_directory WHERE ctid IN (
                            SELECT d.ctid FROM grain_directory d
                              JOIN silo m ON m.silo_id = d.silo_id AND m.epoch = d.silo_epoch
                             WHERE m.status = 4
                             LIMIT @chunk)
                        """,
                        connection);
                    command.Parameters.Add(new NpgsqlParameter<int>("chunk", SweepChunk));
                    return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                },
                cancellationToken).ConfigureAwait(false);
            total += deleted;
            if (deleted < SweepChunk)
            {
                break;
            }
        }

        if (total > 0)
        {
            PostgresLog.DeadSiloEntriesRemoved(_logger, total);
        }

        return total;
    }

    /// <summary>Reads every entry (for integrity checks and tools; not for the request path).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Every entry, ordered by grain id.</returns>
    public Task<IReadOnlyList<GrainAddress>> ReadAllAsync(CancellationToken cancellationToken) =>
        _cluster.RunAsync<IReadOnlyList<GrainAddress>>(
            "directory read-all",
            async (connection, ct) =>
            {
                await using var command = new NpgsqlCommand("SELECT grain_id, silo_id, silo_epoch, activation_id FROM grain_directory ORDER BY grain_id", connection);
                var entries = new List<GrainAddress>();
                await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    entries.Add(new GrainAddress(GrainId.Parse(reader.GetString(0)), reader.GetGuid(3), new SiloAddress(reader.GetString(1), reader.GetInt64(2))));
                }

                return entries;
            },
            cancellationToken);
}
