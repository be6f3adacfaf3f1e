using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Orleans.Configuration;
using Orleans.Configuration.Overrides;
using Orleans.Serialization.Serializers;
using Orleans.Storage;
using PresenceGrid.Postgres.Clustering;
using PresenceGrid.Postgres.Options;
using PresenceGrid.Postgres.Schema;

namespace PresenceGrid.Postgres.Persistence;

/// <summary>
/// Orleans grain storage in PostgreSQL (<c>presencegrid_grain_state</c>) with ETag compare-and-swap
/// and group commit: a write is queued to one of <see cref="PostgresGrainStorageOptions.Committers"/>
/// loops (always the same one for a grain state, so its writes commit in order); each loop gathers
/// the writes of many grains, commits them in one transaction, and completes each caller after that
/// commit. While one loop waits for its commit another gathers and sends the next batch.
/// </summary>
/// <remarks>
/// A write whose ETag is stale changes nothing and fails alone with
/// <see cref="InconsistentStateException"/>; the rest of its batch commits. A clear keeps the row as
/// a tombstone with its ETag advanced, so an ETag is never issued twice for the same grain state
/// (a writer still holding one from before the clear is refused). Clears and reads go straight to
/// the database. Orleans' single-activation guarantee and the ETag check keep a stale activation from
/// overwriting a newer state.
/// </remarks>
internal sealed partial class PostgresGrainStorage : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
{
    private readonly TimeProvider _timeProvider;
    private readonly string _name;
    private readonly string _serviceId;
    private readonly PostgresGrainStorageOptions _options;
    private readonly IActivatorProvider _activators;
    private readonly ILogger<PostgresGrainStorage> _logger;
    private readonly NpgsqlDataSource _dataSource;
    private readonly Channel<PendingWrite>[] _queues;
    private Task[] _committers = [];
    private long _transactions;
    private long _committedWrites;

    /// <summary>Creates the storage named <paramref name="name"/>.</summary>
    /// <param name="name">The storage's name.</param>
    /// <param name="options">Its options.</param>
    /// <param name="clusterOptions">The cluster's options (for the service id).</param>
    /// <param name="activators">Creates a state's default value.</param>
    /// <param name="timeProvider">The clock the group-commit window runs on.</param>
    /// <param name="logger">The logger.</param>
    public PostgresGrainStorage(
        string name,
        PostgresGrainStorageOptions options,
        IOptions<ClusterOptions> clusterOptions,
        IActivatorProvider activators,
        TimeProvider timeProvider,
        ILogger<PostgresGrainStorage> logger)
    {
        _name = name;
        _timeProvider = timeProvider;
        _options = options;
        _serviceId = clusterOptions.Value.ServiceId;
        _activators = activators;
        _logger = logger;
        _dataSource = NpgsqlDataSource.Create(options.ConnectionString!);
        _queues = new Channel<PendingWrite>[options.Committers];
        for (int i = 0; i < _queues.Length; i++)
        {
            _queues[i] = Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = true });
        }
    }

    /// <summary>Transactions the group committers have committed.</summary>
    internal long Transactions => Interlocked.Read(ref _transactions);

    /// <summary>Writes those transactions carried (stored or refused).</summary>
    internal long CommittedWrites => Interlocked.Read(ref _committedWrites);

    /// <summary>Creates the storage registered under <paramref name="name"/>.</summary>
    /// <param name="services">The silo's services.</param>
    /// <param name="name">The storage's name.</param>
    /// <returns>The storage.</returns>
    public static PostgresGrainStorage Create(IServiceProvider services, string name) =>
        ActivatorUtilities.CreateInstance<PostgresGrainStorage>(
            services,
            name,
            services.GetRequiredService<IOptionsMonitor<PostgresGrainStorageOptions>>().Get(name),
            services.GetProviderClusterOptions(name),
            services.GetService<TimeProvider>() ?? TimeProvider.System);

    /// <inheritdoc />
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(OptionFormattingUtilities.Name<PostgresGrainStorage>(_name), ServiceLifecycleStage.ApplicationServices, StartAsync, StopAsync);

    /// <summary>
    /// Reads every stored (not cleared) state named <paramref name="stateName"/> of grains of <paramref name="grainType"/>
    /// in this service: a starting silo rebuilds its presence view from them.
    /// </summary>
    /// <typeparam name="T">The state's type.</typeparam>
    /// <param name="stateName">The state's name.</param>
    /// <param name="grainType">The grain type.</param>
    /// <param name="cancellationToken">Stops the read.</param>
    /// <returns>Each grain's key and state.</returns>
    public async Task<IReadOnlyList<KeyValuePair<string, T>>> ReadAllAsync<T>(string stateName, GrainType grainType, CancellationToken cancellationToken)
    {
        await using NpgsqlCommand command = _dataSource.CreateCommand(
            "SELECT grain_id, payload FROM presencegrid_grain_state WHERE service_id = $1 AND grain_type = $2 AND state_name = $3 AND payload IS NOT NULL");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _serviceId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = grainType.ToString()! });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stateName });
        var states = new List<KeyValuePair<string, T>>();
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            T? state = _options.GrainStorageSerializer.Deserialize<T>(new BinaryData(reader.GetFieldValue<byte[]>(1)));
            if (state is not null)
            {
                states.Add(new KeyValuePair<string, T>(reader.GetString(0), state));
            }
        }

        return states;
    }

    /// <inheritdoc />
    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        await using NpgsqlCommand command = _dataSource.CreateCommand(
            "SELECT etag, payload FROM presencegrid_grain_state WHERE service_id = $1 AND grain_type = $2 AND grain_id = $3 AND state_name = $4 AND payload IS NOT NULL");
        AddKey(command.Parameters, grainId, stateName);
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
        if (await reader.ReadAsync().ConfigureAwait(false))
        {
            grainState.State = _options.GrainStorageSerializer.Deserialize<T>(new BinaryData(reader.GetFieldValue<byte[]>(1))) ?? CreateDefault<T>();
            grainState.ETag = FormatEtag(reader.GetInt64(0));
            grainState.RecordExists = true;
        }
        else
        {
            SetCleared(grainState);
        }
    }

    /// <inheritdoc />
    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        long? expected = ParseEtag("write", stateName, grainId, grainState.ETag);
        byte[] payload = _options.GrainStorageSerializer.Serialize(grainState.State).ToArray();
        var write = new PendingWrite(grainId, stateName, expected, payload);
        // A grain state always goes to the same committer, so its writes commit in the order they came.
        if (!_queues[(write.Key.GetHashCode() & int.MaxValue) % _queues.Length].Writer.TryWrite(write))
        {
            throw new ObjectDisposedException(nameof(PostgresGrainStorage), $"Grain storage '{_name}' is stopped; state '{stateName}' of grain {grainId} was not written.");
        }

        grainState.ETag = FormatEtag(await write.Completion.Task.ConfigureAwait(false));
        grainState.RecordExists = true;
    }

    /// <inheritdoc />
    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        long? expected = ParseEtag("clear", stateName, grainId, grainState.ETag);

        // Expecting a record: tombstone exactly that version. Expecting none: there must be no live row.
        await using NpgsqlCommand command = _dataSource.CreateCommand(expected is null
            ? "SELECT etag FROM presencegrid_grain_state WHERE service_id = $1 AND grain_type = $2 AND grain_id = $3 AND state_name = $4 AND payload IS NOT NULL"
            : """
              UPDATE presencegrid_grain_state SET payload = NULL, etag = etag + 1, updated_at = now()
               WHERE service_id = $1 AND grain_type = $2 AND grain_id = $3 AND state_name = $4 AND payload IS NOT NULL AND etag = $5
              RETURNING etag
              """);
        AddKey(command.Parameters, grainId, stateName);
        if (expected is { } etag)
        {
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = etag });
        }

        bool found = await command.ExecuteScalarAsync().ConfigureAwait(false) is not null;
        if (found == (expected is null))
        {
            throw await ConflictAsync("clear", new PendingWrite(grainId, stateName, expected, [])).ConfigureAwait(false);
        }

        SetCleared(grainState);
    }

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        await PostgresSchemaApplier.ApplyAndLogAsync(ct => PostgresSchema.ApplyAsync(_dataSource, ct), _logger, cancellationToken).ConfigureAwait(false);
        _committers = Array.ConvertAll(_queues, queue => Task.Run(() => RunCommitterAsync(queue.Reader), CancellationToken.None));
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        // Writes already queued still commit; later ones are refused.
        foreach (Channel<PendingWrite> queue in _queues)
        {
            queue.Writer.TryComplete();
        }

        await Task.WhenAll(_committers).WaitAsync(cancellationToken).ConfigureAwait(false);
        await _dataSource.DisposeAsync().ConfigureAwait(false);
    }

    private void SetCleared<T>(IGrainState<T> grainState)
    {
        grainState.State = CreateDefault<T>();
        grainState.ETag = null;
        grainState.RecordExists = false;
    }

    private T CreateDefault<T>() => _activators.GetActivator<T>().Create();

    private async Task RunCommitterAsync(ChannelReader<PendingWrite> reader)
    {
        bool backlog = false;
        var batch = new List<PendingWrite>();
        var deferred = new List<PendingWrite>();
        var keys = new HashSet<(GrainId, string)>();
        while (deferred.Count > 0 || await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            // The window opens only after an idle wait: writes that queued while the last batch committed go at once.
            if (deferred.Count == 0 && !backlog && _options.GroupCommit > TimeSpan.Zero)
            {
                await Task.Delay(_options.GroupCommit, _timeProvider).ConfigureAwait(false);
            }

            // A batch holds each grain state at most once (one statement cannot touch a row twice):
            // a second write of the same state waits for the next batch.
            batch.Clear();
            keys.Clear();
            List<PendingWrite> carried = deferred;
            deferred = [];
            foreach (PendingWrite write in carried)
            {
                (keys.Add(write.Key) ? batch : deferred).Add(write);
            }

            while (reader.TryRead(out PendingWrite? write))
            {
                (keys.Add(write.Key) ? batch : deferred).Add(write);
            }

            try
            {
                await CommitAsync(batch).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // Whatever went wrong, no caller is left waiting: each write of the batch fails with it.
                LogBatchFailed(_logger, ex, _name, batch.Count);
                batch.ForEach(write => write.Completion.TrySetException(ex));
            }

            backlog = reader.TryPeek(out _);
        }
    }

    /// <summary>Commits one batch in one transaction, then completes each write: its new ETag, or its refusal.</summary>
    private async Task CommitAsync(List<PendingWrite> batch)
    {
        // Sorted, so that silos committing the same rows lock them in the same order.
        batch.Sort(static (a, b) => PendingWrite.CompareLockOrder(a, b));
        List<PendingWrite> updates = batch.FindAll(static w => w.Expected is not null);
        List<PendingWrite> inserts = batch.FindAll(static w => w.Expected is null);
        long[] storedUpdates = new long[updates.Count];
        long[] storedInserts = new long[inserts.Count];

        await using (NpgsqlConnection connection = await _dataSource.OpenConnectionAsync().ConfigureAwait(false))
        await using (NpgsqlTransaction transaction = await connection.BeginTransactionAsync().ConfigureAwait(false))
        {
            if (updates.Count > 0)
            {
                await ExecuteBatchStatementAsync(
                    """
                    UPDATE presencegrid_grain_state AS s SET payload = u.payload, etag = s.etag + 1, updated_at = now()
                      FROM unnest($2, $3, $4, $5, $6) WITH ORDINALITY AS u(grain_type, grain_id, state_name, payload, etag, ordinal)
                     WHERE s.service_id = $1 AND s.grain_type = u.grain_type AND s.grain_id = u.grain_id
                       AND s.state_name = u.state_name AND s.etag = u.etag AND s.payload IS NOT NULL
                    RETURNING u.ordinal, s.etag
                    """,
                    updates,
                    connection,
                    transaction,
                    storedUpdates).ConfigureAwait(false);
            }

            if (inserts.Count > 0)
            {
                // A first write inserts, or revives a tombstone; a live row is a conflict (no row back).
                await ExecuteBatchStatementAsync(
                    """
                    WITH u AS (SELECT * FROM unnest($2, $3, $4, $5) WITH ORDINALITY AS u(grain_type, grain_id, state_name, payload, ordinal)),
                    w AS (
                        INSERT INTO presencegrid_grain_state AS s (service_id, grain_type, grain_id, state_name, payload, etag)
                        SELECT $1, u.grain_type, u.grain_id, u.state_name, u.payload, 1 FROM u
                        ON CONFLICT (service_id, grain_type, grain_id, state_name)
                        DO UPDATE SET payload = excluded.payload, etag = s.etag + 1, updated_at = now()
                         WHERE s.payload IS NULL
                        RETURNING s.grain_type, s.grain_id, s.state_name, s.etag)
                    SELECT u.ordinal, w.etag FROM w JOIN u USING (grain_type, grain_id, state_name)
                    """,
                    inserts,
                    connection,
                    transaction,
                    storedInserts).ConfigureAwait(false);
            }

            await transaction.CommitAsync().ConfigureAwait(false);
        }

        Interlocked.Increment(ref _transactions);
        Interlocked.Add(ref _committedWrites, batch.Count);
        await CompleteAsync(updates, storedUpdates).ConfigureAwait(false);
        await CompleteAsync(inserts, storedInserts).ConfigureAwait(false);
    }

    /// <summary>Gives each write its new ETag, or (none stored: 0) its refusal.</summary>
    private async Task CompleteAsync(List<PendingWrite> writes, long[] stored)
    {
        for (int i = 0; i < writes.Count; i++)
        {
            if (stored[i] > 0)
            {
                writes[i].Completion.TrySetResult(stored[i]);
            }
            else
            {
                writes[i].Completion.TrySetException(await ConflictAsync("write", writes[i]).ConfigureAwait(false));
            }
        }
    }

    private async Task ExecuteBatchStatementAsync(
        string sql,
        List<PendingWrite> writes,
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        long[] stored)
    {
        // Each statement returns (ordinal in writes, 1-based; new etag) for the rows it stored.
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _serviceId });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = writes.ConvertAll(static w => w.GrainType).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = writes.ConvertAll(static w => w.GrainKey).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = writes.ConvertAll(static w => w.StateName).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<byte[][]> { TypedValue = writes.ConvertAll(static w => w.Payload).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
        if (writes[0].Expected is not null)
        {
            command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = writes.ConvertAll(static w => w.Expected!.Value).ToArray() });
        }

        // Prepared once per physical connection (Npgsql keeps it across pool rentals): no parse or plan per batch.
        await command.PrepareAsync().ConfigureAwait(false);

        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
        while (await reader.ReadAsync().ConfigureAwait(false))
        {
            stored[reader.GetInt64(0) - 1] = reader.GetInt64(1);
        }
    }

    private void AddKey(NpgsqlParameterCollection parameters, GrainId grainId, string stateName)
    {
        parameters.Add(new NpgsqlParameter<string> { TypedValue = _serviceId });
        parameters.Add(new NpgsqlParameter<string> { TypedValue = grainId.Type.ToString() });
        parameters.Add(new NpgsqlParameter<string> { TypedValue = grainId.Key.ToString() });
        parameters.Add(new NpgsqlParameter<string> { TypedValue = stateName });
    }

    /// <summary>The refusal of a write or clear whose ETag does not match the stored one (which it reads, for the message).</summary>
    private async Task<InconsistentStateException> ConflictAsync(string operation, PendingWrite write)
    {
        await using NpgsqlCommand command = _dataSource.CreateCommand(
            "SELECT etag, payload IS NULL FROM presencegrid_grain_state WHERE service_id = $1 AND grain_type = $2 AND grain_id = $3 AND state_name = $4");
        AddKey(command.Parameters, write.GrainId, write.StateName);
        string? storedEtag = null;
        await using (NpgsqlDataReader reader = await command.ExecuteReaderAsync().ConfigureAwait(false))
        {
            if (await reader.ReadAsync().ConfigureAwait(false) && !reader.GetBoolean(1))
            {
                storedEtag = FormatEtag(reader.GetInt64(0));
            }
        }

        string currentEtag = write.Expected is { } expected ? FormatEtag(expected) : "(none)";
        return new InconsistentStateException(
            $"Grain storage '{_name}' refused to {operation} state '{write.StateName}' of grain {write.GrainId}: the caller's ETag {currentEtag} is stale (stored: {storedEtag ?? "(none)"}).",
            storedEtag ?? string.Empty,
            currentEtag);
    }

    private static string FormatEtag(long etag) => etag.ToString(CultureInfo.InvariantCulture);

    /// <summary>The caller's ETag as the row counter it stands for; one this storage did not issue is refused.</summary>
    private long? ParseEtag(string operation, string stateName, GrainId grainId, string? etag) =>
        etag is null ? null
        : long.TryParse(etag, NumberStyles.None, CultureInfo.InvariantCulture, out long value) ? value
        : throw new InconsistentStateException(
            $"Grain storage '{_name}' refused to {operation} state '{stateName}' of grain {grainId}: the ETag '{etag}' was not issued by this storage.",
            string.Empty,
            etag);

    [LoggerMessage(EventId = 7010, EventName = "PostgresGrainStorageBatchFailed", Level = LogLevel.Error,
        Message = "Grain storage {Storage}: a group commit of {Count} writes failed; each of them fails.")]
    private static partial void LogBatchFailed(ILogger logger, Exception exception, string storage, int count);

    /// <summary>One queued write; <see cref="Completion"/> gets its new ETag after the commit, or its refusal.</summary>
    private sealed class PendingWrite(GrainId grainId, string stateName, long? expected, byte[] payload)
    {
        public GrainId GrainId { get; } = grainId;

        public string GrainType { get; } = grainId.Type.ToString()!;

        public string GrainKey { get; } = grainId.Key.ToString()!;

        public string StateName { get; } = stateName;

        public long? Expected { get; } = expected;

        public byte[] Payload { get; } = payload;

        public (GrainId, string) Key => (GrainId, StateName);

        /// <summary>The order rows are locked in: the same on every silo.</summary>
        public static int CompareLockOrder(PendingWrite a, PendingWrite b)
        {
            int order = string.CompareOrdinal(a.GrainType, b.GrainType);
            order = order != 0 ? order : string.CompareOrdinal(a.GrainKey, b.GrainKey);
            return order != 0 ? order : string.CompareOrdinal(a.StateName, b.StateName);
        }

        public TaskCompletionSource<long> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
