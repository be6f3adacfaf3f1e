using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using PresenceGrid.Persistence;
using PresenceGrid.Runtime.Persistence;

namespace PresenceGrid.Runtime.Postgres;

/// <summary>
/// Grain storage in PostgreSQL with ETag compare-and-swap and a directory fence: when the writer
/// names its activation, a write lands only while the grain directory row of the grain carries that
/// activation (checked <c>FOR SHARE</c>, so a takeover in flight orders before or after the write,
/// never around it).
/// </summary>
/// <remarks>
/// <para>
/// Writes are group-committed: <see cref="WriteStateAsync{TState}"/> queues the write, and one loop
/// takes everything queued (at most <see cref="PostgresClusterOptions.MaxBatchSize"/>) after the
/// commit window, runs it as one transaction (one array UPDATE for writes with an ETag, one array
/// INSERT for first writes) and completes each caller after COMMIT.
/// </para>
/// <para>
/// Clearing keeps the row as a tombstone (<c>data IS NULL</c>, ETag advanced) instead of deleting
/// it, so an ETag is never reused for the same grain and state: a writer holding an ETag from before
/// the clear can never match a record written after it. Reads treat a tombstone as no record.
/// </para>
/// </remarks>
internal sealed class PostgresGrainStorage : IGrainStorage, IGrainStorageScan, IAsyncDisposable
{
    private const string Fence =
        "(u.activation_id = '00000000-0000-0000-0000-000000000000' OR EXISTS (SELECT 1 FROM grain_directory d WHERE d.grain_id = u.grain_id AND d.activation_id = u.activation_id FOR SHARE))";

    private readonly PostgresCluster _cluster;
    private readonly IGrainStateSerializer _serializer;
    private readonly string _name;
    private readonly ILogger _logger;
    private readonly Channel<PendingWrite> _queue = Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _batcher;
    private long _transactions;
    private long _rows;
    private int _largestBatch;

    public PostgresGrainStorage(PostgresCluster cluster, IGrainStateSerializer serializer, string name)
    {
        _cluster = cluster;
        _serializer = serializer;
        _name = name;
        _logger = cluster.LoggerFactory.CreateLogger<PostgresGrainStorage>();
        _batcher = Task.Run(RunBatcherAsync);
    }

    /// <summary>Group-commit transactions committed so far.</summary>
    internal long CommittedTransactions => Interlocked.Read(ref _transactions);

    /// <summary>Writes carried by those transactions.</summary>
    internal long CommittedRows => Interlocked.Read(ref _rows);

    /// <summary>The most writes one transaction carried.</summary>
    internal int LargestBatch => Volatile.Read(ref _largestBatch);

    public async Task ReadStateAsync<TState>(string stateName, GrainId grainId, IGrainState<TState> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        (long Etag, byte[] Data)? record = await _cluster.RunAsync<(long, byte[])?>(
            "state read",
            async (connection, ct) =>
            {
                await using var command = new NpgsqlCommand("SELECT etag, data FROM grain_state WHERE grain_id = @grain AND state_name = @state AND data IS NOT NULL", connection);
                command.Parameters.Add(new NpgsqlParameter<string>("grain", grainId.ToString()));
                command.Parameters.Add(new NpgsqlParameter<string>("state", stateName));
                await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                return await reader.ReadAsync(ct).ConfigureAwait(false) ? (reader.GetInt64(0), reader.GetFieldValue<byte[]>(1)) : null;
            },
            CancellationToken.None).ConfigureAwait(false);

        if (record is { } found)
        {
            grainState.State = _serializer.Deserialize<TState>(found.Data);
            grainState.ETag = FormatEtag(found.Etag);
            grainState.RecordExists = true;
        }
        else
        {
            grainState.ETag = null;
            grainState.RecordExists = false;
        }
    }

    public async Task WriteStateAsync<TState>(string stateName, GrainId grainId, IGrainState<TState> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        long? expected = ParseEtag("write", stateName, grainId, grainState.ETag);
        var write = new PendingWrite(grainId, grainId.ToString(), stateName, expected, _serializer.Serialize(grainState.State), grainState.ActivationId);
        if (!_queue.Writer.TryWrite(write))
        {
            throw new ObjectDisposedException(nameof(PostgresGrainStorage), $"Storage '{_name}' is shut down; state '{stateName}' of grain {grainId} was not written.");
        }

        long etag = await write.Completion.Task.ConfigureAwait(false);
        grainState.ETag = FormatEtag(etag);
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<TState>(string stateName, GrainId grainId, IGrainState<TState> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        long? expected = ParseEtag("clear", stateName, grainId, grainState.ETag);
        var probe = new PendingWrite(grainId, grainId.ToString(), stateName, expected, [], grainState.ActivationId);
        int tries = 0;
        Exception? refusal = await _cluster.RunAsync(
            "state clear",
            async (connection, ct) =>
            {
                tries++;
                if (expected is { } etag)
                {
                    await using var command = new NpgsqlCommand(
                        $"""
                        UPDATE grain_state s SET data = NULL, etag = s.etag + 1, updated_at = now()
                          FROM (SELECT @grain::text AS grain_id, @activation::uuid AS activation_id) u
                         WHERE s.grain_id = @grain AND s.state_name = @state AND s.etag = @etag AND {Fence}
                        RETURNING s.etag
                        """,
                        connection);
                    command.Parameters.Add(new NpgsqlParameter<string>("grain", probe.GrainKey));
                    command.Parameters.Add(new NpgsqlParameter<string>("state", stateName));
                    command.Parameters.Add(new NpgsqlParameter<long>("etag", etag));
                    command.Parameters.Add(new NpgsqlParameter<Guid>("activation", probe.ActivationId));
                    if (await command.ExecuteScalarAsync(ct).ConfigureAwait(false) is not null)
                    {
                        return null;
                    }
                }

                Diagnosis diagnosis = (await DiagnoseAsync(connection, [probe], ct).ConfigureAwait(false))[0];
                if (!diagnosis.FenceHeld)
                {
                    return Fenced("clear", probe);
                }

                // Expecting no record: fine when there is none (or only a tombstone).
                if (expected is null && diagnosis.StoredEtag is null)
                {
                    return null;
                }

                // A retry after a lost reply finds its own tombstone.
                if (tries > 1 && expected is { } e && diagnosis.IsTombstone && diagnosis.RawEtag == e + 1)
                {
                    return null;
                }

                return (Exception)Conflict("clear", probe, diagnosis.StoredEtag);
            },
            CancellationToken.None).ConfigureAwait(false);

        if (refusal is not null)
        {
            throw refusal;
        }

        grainState.ETag = null;
        grainState.RecordExists = false;
    }

    public Task<IReadOnlyList<KeyValuePair<GrainId, TState>>> ReadAllAsync<TState>(string stateName, string grainType, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stateName);
        ArgumentException.ThrowIfNullOrEmpty(grainType);
        // A type's grain ids are "type/key". In the column's C collation they sort from "type/" up to, not
        // including, "type0" ('0' follows '/'): an index range, which a generic plan can use (a LIKE
        // pattern in a parameter it could not).
        string from = grainType + "/";
        string to = grainType + "0";
        return _cluster.RunAsync<IReadOnlyList<KeyValuePair<GrainId, TState>>>(
            "state scan",
            async (connection, ct) =>
            {
                await using var command = new NpgsqlCommand(
                    "SELECT grain_id, data FROM grain_state WHERE grain_id >= @from AND grain_id < @to AND state_name = @state AND data IS NOT NULL ORDER BY grain_id",
                    connection);
                command.Parameters.Add(new NpgsqlParameter<string>("state", stateName));
                command.Parameters.Add(new NpgsqlParameter<string>("from", from));
                command.Parameters.Add(new NpgsqlParameter<string>("to", to));
                var records = new List<KeyValuePair<GrainId, TState>>();
                await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    records.Add(new(GrainId.Parse(reader.GetString(0)), _serializer.Deserialize<TState>(reader.GetFieldValue<byte[]>(1))));
                }

                return records;
            },
            cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_queue.Writer.TryComplete())
        {
            return;
        }

        await _batcher.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        PostgresLog.BatcherStopped(_logger, CommittedTransactions, CommittedRows);
    }

    private static string FormatEtag(long etag) => etag.ToString(CultureInfo.InvariantCulture);

    private long? ParseEtag(string operation, string stateName, GrainId grainId, string? etag)
    {
        if (etag is null)
        {
            return null;
        }

        if (long.TryParse(etag, NumberStyles.None, CultureInfo.InvariantCulture, out long value))
        {
            return value;
        }

        throw new InconsistentStateException(
            $"Storage '{_name}' refused to {operation} state '{stateName}' of grain {grainId}: the writer's ETag '{etag}' was not issued by this storage.",
            null,
            etag);
    }

    private async Task RunBatcherAsync()
    {
        ChannelReader<PendingWrite> reader = _queue.Reader;
        int max = _cluster.Options.MaxBatchSize;
        TimeSpan window = _cluster.Options.GroupCommitWindow;
        var deferred = new List<PendingWrite>();
        var batch = new List<PendingWrite>(max);
        var keys = new HashSet<(string, string)>();
        while (true)
        {
            if (deferred.Count == 0)
            {
                if (!await reader.WaitToReadAsync().ConfigureAwait(false))
                {
                    break;
                }

                // The window is a latency knob, not logical time: it always runs on the real clock.
                if (window > TimeSpan.Zero)
                {
                    await Task.Delay(window).ConfigureAwait(false);
                }
            }

            // A batch holds each grain state at most once (array upserts cannot touch a row twice):
            // a second write of the same state waits for the next batch.
            batch.Clear();
            keys.Clear();
            var stillDeferred = new List<PendingWrite>();
            foreach (PendingWrite write in deferred)
            {
                (batch.Count < max && keys.Add(write.Key) ? batch : stillDeferred).Add(write);
            }

            deferred = stillDeferred;
            while (batch.Count < max && reader.TryRead(out PendingWrite? write))
            {
                (keys.Add(write.Key) ? batch : deferred).Add(write);
            }

            if (batch.Count > 0)
            {
                try
                {
                    await CommitAsync(batch).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    // CommitAsync completes every write itself; this only keeps the loop alive.
                    PostgresLog.BatchFailed(_logger, ex, batch.Count);
                    foreach (PendingWrite write in batch)
                    {
                        write.Completion.TrySetException(ex);
                    }
                }
            }
        }
    }

    private async Task CommitAsync(List<PendingWrite> batch)
    {
        // Sorted, so that silos batching the same rows lock them in the same order.
        batch.Sort(static (a, b) =>
        {
            int byGrain = string.CompareOrdinal(a.GrainKey, b.GrainKey);
            return byGrain != 0 ? byGrain : string.CompareOrdinal(a.StateName, b.StateName);
        });
        int attempts = _cluster.Options.TransientRetryCount;
        TimeSpan delay = _cluster.Options.TransientRetryDelay;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                Outcome[] outcomes = await ExecuteAsync(batch, isRetry: attempt > 1).ConfigureAwait(false);
                Interlocked.Increment(ref _transactions);
                Interlocked.Add(ref _rows, batch.Count);
                if (batch.Count > _largestBatch)
                {
                    Volatile.Write(ref _largestBatch, batch.Count);
                }

                for (int i = 0; i < batch.Count; i++)
                {
                    if (outcomes[i].Error is { } error)
                    {
                        batch[i].Completion.TrySetException(error);
                    }
                    else
                    {
                        batch[i].Completion.TrySetResult(outcomes[i].Etag);
                    }
                }

                return;
            }
            catch (Exception ex) when (PostgresCluster.IsTransient(ex) && attempt < attempts)
            {
                _cluster.DataSource.Clear();
                _cluster.NoteTransientRetry();
                PostgresLog.TransientFailure(_logger, ex, "state write batch", attempt, attempts, (int)delay.TotalMilliseconds);
                await Task.Delay(delay, _cluster.TimeProvider).ConfigureAwait(false);
                delay *= 2;
            }
            catch (Exception ex)
            {
                if (PostgresCluster.IsTransient(ex))
                {
                    _cluster.DataSource.Clear();
                }

                PostgresLog.BatchFailed(_logger, ex, batch.Count);
                foreach (PendingWrite write in batch)
                {
                    write.Completion.TrySetException(PostgresCluster.IsTransient(ex)
                        ? new PresenceGridException(
                            string.Create(CultureInfo.InvariantCulture, $"Storage '{_name}' could not write state '{write.StateName}' of grain {write.GrainId}: PostgreSQL was unreachable through {attempt} tries ({ex.Message}). The write may or may not have been stored."),
                            ex)
                        : new PresenceGridException($"Storage '{_name}' could not write state '{write.StateName}' of grain {write.GrainId}: {ex.Message}", ex));
                }

                return;
            }
        }
    }

    /// <summary>Runs one batch in one transaction; returns each write's new ETag or its refusal.</summary>
    private async Task<Outcome[]> ExecuteAsync(List<PendingWrite> batch, bool isRetry)
    {
        var outcomes = new Outcome[batch.Count];
        var index = new Dictionary<(string, string), int>(batch.Count);
        var updates = new List<PendingWrite>();
        var inserts = new List<PendingWrite>();
        for (int i = 0; i < batch.Count; i++)
        {
            index[batch[i].Key] = i;
            (batch[i].Expected is null ? inserts : updates).Add(batch[i]);
        }

        var done = new bool[batch.Count];

        // One round trip: the UPDATE and the INSERT go out as one batch, which PostgreSQL runs as
        // one implicit transaction (a single Sync) and commits before it answers. Locks taken by the
        // fence are held to that commit.
        await using NpgsqlConnection connection = await _cluster.DataSource.OpenConnectionAsync().ConfigureAwait(false);
        await using (var commands = new NpgsqlBatch(connection))
        {
            if (updates.Count > 0)
            {
                var command = new NpgsqlBatchCommand(
                    $"""
                    UPDATE grain_state AS s SET data = u.data, etag = s.etag + 1, updated_at = now()
                      FROM unnest($1, $2, $3, $4, $5) AS u(grain_id, state_name, etag, data, activation_id)
                     WHERE s.grain_id = u.grain_id AND s.state_name = u.state_name AND s.etag = u.etag AND {Fence}
                    RETURNING s.grain_id, s.state_name, s.etag
                    """);
                AddArrays(command.Parameters, updates, withEtags: true);
                commands.BatchCommands.Add(command);
            }

            if (inserts.Count > 0)
            {
                // A first write inserts, or revives a tombstone; a live row is a conflict (no row back).
                var command = new NpgsqlBatchCommand(
                    $"""
                    INSERT INTO grain_state AS s (grain_id, state_name, etag, data)
                    SELECT u.grain_id, u.state_name, 1, u.data
                      FROM unnest($1, $2, $3, $4) AS u(grain_id, state_name, data, activation_id)
                     WHERE {Fence}
                    ON CONFLICT (grain_id, state_name) DO UPDATE SET data = excluded.data, etag = s.etag + 1, updated_at = now()
                     WHERE s.data IS NULL
                    RETURNING s.grain_id, s.state_name, s.etag
                    """);
                AddArrays(command.Parameters, inserts, withEtags: false);
                commands.BatchCommands.Add(command);
            }

            // The callers learn nothing before the reader is drained: only then has the commit been answered.
            await using NpgsqlDataReader reader = await commands.ExecuteReaderAsync().ConfigureAwait(false);
            do
            {
                while (await reader.ReadAsync().ConfigureAwait(false))
                {
                    int i = index[(reader.GetString(0), reader.GetString(1))];
                    outcomes[i] = new Outcome(reader.GetInt64(2), null);
                    done[i] = true;
                }
            }
            while (await reader.NextResultAsync().ConfigureAwait(false));
        }

        var refused = new List<PendingWrite>();
        for (int i = 0; i < batch.Count; i++)
        {
            if (!done[i])
            {
                refused.Add(batch[i]);
            }
        }

        if (refused.Count > 0)
        {
            // Committed already; a refused write changed nothing, and under READ COMMITTED a statement
            // of its own sees what a statement inside the transaction would have seen.
            Diagnosis[] diagnoses = await DiagnoseAsync(connection, refused, CancellationToken.None).ConfigureAwait(false);
            for (int r = 0; r < refused.Count; r++)
            {
                PendingWrite write = refused[r];
                Diagnosis diagnosis = diagnoses[r];
                int i = index[write.Key];
                if (!diagnosis.FenceHeld)
                {
                    outcomes[i] = new Outcome(0, Fenced("write", write));
                }
                else if (isRetry && diagnosis.SameData && !diagnosis.IsTombstone && (write.Expected is null || diagnosis.RawEtag == write.Expected + 1))
                {
                    // The earlier try committed but its reply was lost: this write is stored.
                    outcomes[i] = new Outcome(diagnosis.RawEtag, null);
                }
                else
                {
                    outcomes[i] = new Outcome(0, Conflict("write", write, diagnosis.StoredEtag));
                }
            }
        }

        return outcomes;
    }

    /// <summary>The writes as positional array parameters: grains, states, (etags,) data, activations.</summary>
    private static void AddArrays(NpgsqlParameterCollection parameters, List<PendingWrite> writes, bool withEtags)
    {
        parameters.Add(new NpgsqlParameter<string[]> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, TypedValue = writes.Select(w => w.GrainKey).ToArray() });
        parameters.Add(new NpgsqlParameter<string[]> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, TypedValue = writes.Select(w => w.StateName).ToArray() });
        if (withEtags)
        {
            parameters.Add(new NpgsqlParameter<long[]> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint, TypedValue = writes.Select(w => w.Expected ?? 0).ToArray() });
        }

        parameters.Add(new NpgsqlParameter<byte[][]> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea, TypedValue = writes.Select(w => w.Data).ToArray() });
        parameters.Add(new NpgsqlParameter<Guid[]> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid, TypedValue = writes.Select(w => w.ActivationId).ToArray() });
    }

    /// <summary>For refused writes: is the fence held, and what is stored (to tell FENCED from CONFLICT).</summary>
    private static async Task<Diagnosis[]> DiagnoseAsync(NpgsqlConnection connection, IReadOnlyList<PendingWrite> writes, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            """
            SELECT u.i, s.etag, s.data IS NULL, coalesce(s.data = u.data, false),
                   u.activation_id = '00000000-0000-0000-0000-000000000000'
                   OR EXISTS (SELECT 1 FROM grain_directory d WHERE d.grain_id = u.grain_id AND d.activation_id = u.activation_id)
              FROM unnest($1, $2, $3, $4) WITH ORDINALITY AS u(grain_id, state_name, data, activation_id, i)
              LEFT JOIN grain_state s ON s.grain_id = u.grain_id AND s.state_name = u.state_name
            """,
            connection);
        var list = writes as List<PendingWrite> ?? [.. writes];
        AddArrays(command.Parameters, list, withEtags: false);
        var diagnoses = new Diagnosis[writes.Count];
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            int i = (int)reader.GetInt64(0) - 1;
            bool exists = !reader.IsDBNull(1);
            diagnoses[i] = new Diagnosis(
                exists ? reader.GetInt64(1) : 0,
                Exists: exists,
                IsTombstone: exists && reader.GetBoolean(2),
                SameData: reader.GetBoolean(3),
                FenceHeld: reader.GetBoolean(4));
        }

        return diagnoses;
    }

    private GrainStateFencedException Fenced(string operation, PendingWrite write) =>
        new($"Storage '{_name}' refused to {operation} state '{write.StateName}' of grain {write.GrainId}: activation {write.ActivationId:N} is no longer the one registered in the grain directory; another activation took the grain over.");

    private InconsistentStateException Conflict(string operation, PendingWrite write, string? stored)
    {
        string? current = write.Expected is { } e ? FormatEtag(e) : null;
        return new($"Storage '{_name}' refused to {operation} state '{write.StateName}' of grain {write.GrainId}: the stored ETag is {stored ?? "(none)"} but the writer expected {current ?? "(none)"}; another activation changed it.",
            stored,
            current);
    }

    private sealed class PendingWrite(GrainId grainId, string grainKey, string stateName, long? expected, byte[] data, Guid activationId)
    {
        public GrainId GrainId { get; } = grainId;

        public string GrainKey { get; } = grainKey;

        public string StateName { get; } = stateName;

        public (string, string) Key => (GrainKey, StateName);

        public long? Expected { get; } = expected;

        public byte[] Data { get; } = data;

        public Guid ActivationId { get; } = activationId;

        public TaskCompletionSource<long> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private readonly record struct Outcome(long Etag, Exception? Error);

    private readonly record struct Diagnosis(long RawEtag, bool Exists, bool IsTombstone, bool SameData, bool FenceHeld)
    {
        /// <summary>The stored ETag as callers know it: null when there is no live record.</summary>
        public string? StoredEtag => Exists && !IsTombstone ? FormatEtag(RawEtag) : null;
    }
}
