using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using PresenceGrid.Runtime.Persistence;

namespace PresenceGrid.Runtime.Postgres;

/// <summary>
/// A silo's connection to a cluster kept in PostgreSQL. It owns the one <see cref="NpgsqlDataSource"/>
/// (its search path set to the cluster's schema, so all SQL is unqualified), creates or migrates the
/// schema once, and hosts the three providers: membership table, grain directory and grain storage.
/// </summary>
public sealed class PostgresCluster : IAsyncDisposable
{
    private readonly ILogger _logger;
    private readonly Lock _initLock = new();
    private Task? _schemaTask;
    private int _disposed;
    private long _transientRetries;

    /// <summary>Creates the cluster connection; nothing touches the database before <see cref="InitializeAsync"/>.</summary>
    /// <param name="options">Connection string, cluster id and batching.</param>
    /// <param name="serializer">Serializes grain state.</param>
    /// <param name="loggerFactory">Logging; null for none.</param>
    /// <param name="timeProvider">Time for back-offs and polling; null for the system clock.</param>
    public PostgresCluster(PostgresClusterOptions options, IGrainStateSerializer serializer, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(serializer);
        options.Validate();
        Options = options;
        LoggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        TimeProvider = timeProvider ?? TimeProvider.System;
        _logger = LoggerFactory.CreateLogger<PostgresCluster>();
        SchemaName = options.SchemaName;

        var builder = new NpgsqlConnectionStringBuilder(options.ConnectionString) { SearchPath = SchemaName };
        if (!options.ConnectionString.Contains("Pool Size", StringComparison.OrdinalIgnoreCase))
        {
            // Small pools: a few silos must stay well under max_connections (100 by default), and group
            // commit needs few connections; activations beyond the pool wait for a connection.
            builder.MaxPoolSize = 16;
        }

        if (!SetsKeyword(options.ConnectionString, "maxautoprepare"))
        {
            // The providers run a fixed set of statements over and over (group commit every few ms,
            // directory registration on each activation): prepared once per physical connection,
            // PostgreSQL stops parsing, analysing and planning them on every execution.
            builder.MaxAutoPrepare = 32;
        }

        if (builder.Options?.Contains("plan_cache_mode", StringComparison.OrdinalIgnoreCase) != true)
        {
            // Generic plans for the prepared statements. Left to choose, PostgreSQL planned the group
            // commit's array UPDATE anew on every execution (its custom plans looked cheaper than the
            // generic one), 0.2 ms of planning per transaction for the same plan; the providers'
            // statements are key lookups and array joins whose best plan does not depend on the values.
            const string GenericPlans = "-c plan_cache_mode=force_generic_plan";
            builder.Options = string.IsNullOrWhiteSpace(builder.Options) ? GenericPlans : builder.Options + " " + GenericPlans;
        }

        if (!SetsKeyword(options.ConnectionString, "noresetonclose"))
        {
            // The providers keep no session state on pooled connections (their advisory locks and
            // search_path are transaction-scoped), so a connection returned to the pool needs no reset:
            // with prepared statements Npgsql's reset is seven statements (RESET ALL, CLOSE ALL,
            // UNLISTEN *, ... DISCARD TEMP) that PostgreSQL would parse and run before each group commit.
            builder.NoResetOnClose = true;
        }

        if (options.ApplicationName is not null)
        {
            builder.ApplicationName = options.ApplicationName;
        }

        DataSource = new NpgsqlDataSourceBuilder(builder.ConnectionString).Build();

        // LISTEN gets its own unpooled connection: its session state never reaches pooled connections,
        // and it never sits inside a transaction (which would hold up the notification queue).
        builder.Pooling = false;
        builder.KeepAlive = 5;
        ListenDataSource = new NpgsqlDataSourceBuilder(builder.ConnectionString).Build();

        MembershipTable = new PostgresMembershipTable(this);
        GrainDirectory = new PostgresGrainDirectory(this);
        GrainStorage = new PostgresGrainStorage(this, serializer, "postgres");
        _meter = new Meter(MeterName);
        Operations = _meter.CreateCounter<long>("presencegrid.postgres.operations", "{operation}", "Database operations (round trips or batches), by operation.");
        _meter.CreateObservableCounter("presencegrid.postgres.state.transactions", () => GrainStorage.CommittedTransactions, "{transaction}", "Group-commit transactions of grain state.");
        _meter.CreateObservableCounter("presencegrid.postgres.state.rows", () => GrainStorage.CommittedRows, "{row}", "Grain state rows written by group commit.");
    }

    /// <summary>The meter of the PostgreSQL providers.</summary>
    public const string MeterName = "PresenceGrid.Postgres";

    private readonly Meter _meter;

    internal Counter<long> Operations { get; }

    /// <summary>The schema that holds the cluster's tables.</summary>
    public string SchemaName { get; }

    internal PostgresClusterOptions Options { get; }

    internal ILoggerFactory LoggerFactory { get; }

    internal TimeProvider TimeProvider { get; }

    internal NpgsqlDataSource DataSource { get; }

    internal NpgsqlDataSource ListenDataSource { get; }

    internal PostgresMembershipTable MembershipTable { get; }

    internal PostgresGrainDirectory GrainDirectory { get; }

    internal PostgresGrainStorage GrainStorage { get; }

    /// <summary>How many times an operation was retried after a transient failure (diagnostics, tests).</summary>
    internal long TransientRetries => Interlocked.Read(ref _transientRetries);

    /// <summary>The channel that <c>cluster_version</c> changes are notified on.</summary>
    internal string NotifyChannel => SchemaName + "_members";

    /// <summary>
    /// Creates or migrates the cluster's schema (idempotent; silos racing here serialize on an
    /// advisory lock) and starts membership change notifications.
    /// </summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task.</returns>
    public Task InitializeAsync(CancellationToken cancellationToken) => MembershipTable.InitializeAsync(cancellationToken);

    /// <summary>Stops the batcher (after committing what is queued) and the listener, and closes every connection.</summary>
    /// <returns>A task.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await GrainStorage.DisposeAsync().ConfigureAwait(false);
        _meter.Dispose();
        await MembershipTable.DisposeAsync().ConfigureAwait(false);
        await ListenDataSource.DisposeAsync().ConfigureAwait(false);
        await DataSource.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Runs the schema migrations once per process (again after a failure).</summary>
    internal Task EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        lock (_initLock)
        {
            if (_schemaTask is null || _schemaTask.IsFaulted || _schemaTask.IsCanceled)
            {
                _schemaTask = RunAsync("schema migration", MigrateAsync, cancellationToken);
            }

            return _schemaTask;
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/> on a pooled connection, again with doubling back-off while the
    /// failure is transient (database unreachable, restarting, connection dropped), at most
    /// <see cref="PostgresClusterOptions.TransientRetryCount"/> times. Only for idempotent work.
    /// </summary>
    internal async Task<T> RunAsync<T>(string operation, Func<NpgsqlConnection, CancellationToken, Task<T>> body, CancellationToken cancellationToken)
    {
        int attempts = Options.TransientRetryCount;
        TimeSpan delay = Options.TransientRetryDelay;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await using NpgsqlConnection connection = await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                Operations.Add(1, new KeyValuePair<string, object?>("operation", operation));
                return await body(connection, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsTransient(ex) && !cancellationToken.IsCancellationRequested)
            {
                DataSource.Clear();
                if (attempt >= attempts)
                {
                    PostgresLog.OperationGaveUp(_logger, ex, operation, attempt);
                    throw Unavailable(operation, attempt, ex);
                }

                NoteTransientRetry();
                PostgresLog.TransientFailure(_logger, ex, operation, attempt, attempts, (int)delay.TotalMilliseconds);
                await Task.Delay(delay, TimeProvider, cancellationToken).ConfigureAwait(false);
                delay *= 2;
            }
        }
    }

    internal void NoteTransientRetry() => Interlocked.Increment(ref _transientRetries);

    internal Task RunAsync(string operation, Func<NpgsqlConnection, CancellationToken, Task> body, CancellationToken cancellationToken) =>
        RunAsync<bool>(
            operation,
            async (connection, ct) =>
            {
                await body(connection, ct).ConfigureAwait(false);
                return true;
            },
            cancellationToken);

    internal static PresenceGridException Unavailable(string operation, int attempts, Exception cause) =>
        new(string.Create(CultureInfo.InvariantCulture, $"PostgreSQL operation '{operation}' failed after {attempts} tries: the database is unreachable or restarting ({cause.Message})."), cause);

    /// <summary>
    /// True when the connection string sets <paramref name="compactKeyword"/> in any spelling Npgsql
    /// accepts ("Max Auto Prepare", "MaxAutoPrepare", any case): the keyword without spaces, lower case.
    /// </summary>
    internal static bool SetsKeyword(string connectionString, string compactKeyword)
    {
        var parsed = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        foreach (string key in parsed.Keys)
        {
            if (string.Equals(key.Replace(" ", string.Empty, StringComparison.Ordinal), compactKeyword, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// True for failures that say nothing about the data: the connection could not be opened or
    /// broke, the server is shutting down or starting (57P01-57P03), connection exceptions (08xxx),
    /// too many connections (53300). Serialization failures and deadlocks (40001, 40P01) roll the
    /// transaction back, so they are retried too. CAS refusals are never exceptions and never retried.
    /// </summary>
    internal static bool IsTransient(Exception exception)
    {
        switch (exception)
        {
            case PostgresException pg:
                return pg.SqlState.StartsWith("08", StringComparison.Ordinal)
                    || pg.SqlState is "57P01" or "57P02" or "57P03" or "53300" or "40001" or "40P01";
            case NpgsqlException npgsql:
                return npgsql.IsTransient
                    || npgsql.InnerException is SocketException or IOException or TimeoutException or EndOfStreamException
                    || (npgsql.InnerException is { } inner && IsTransient(inner));
            case SocketException or IOException or EndOfStreamException:
                return true;
            default:
                return false;
        }
    }

    private async Task MigrateAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended(@key, 0))", connection, transaction))
        {
            lockCommand.Parameters.AddWithValue("key", "presencegrid:" + SchemaName);
            await lockCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        // The schema may not exist when the session starts, so point the search path at it explicitly.
        await using (var schemaCommand = new NpgsqlCommand(
            $"""
            CREATE SCHEMA IF NOT EXISTS "{SchemaName}";
            SET LOCAL search_path TO "{SchemaName}";
            CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
            """,
            connection,
            transaction))
        {
            await schemaCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        int current;
        await using (var versionCommand = new NpgsqlCommand("SELECT coalesce(max(version), 0) FROM schema_version", connection, transaction))
        {
            current = Convert.ToInt32(await versionCommand.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
        }

        int applied = 0;
        for (int version = current + 1; version <= PostgresSchema.Migrations.Count; version++)
        {
            await using var migration = new NpgsqlCommand(PostgresSchema.Migrations[version - 1], connection, transaction);
            await migration.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            await using var record = new NpgsqlCommand("INSERT INTO schema_version (version) VALUES (@v)", connection, transaction);
            record.Parameters.AddWithValue("v", version);
            await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            applied++;
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        PostgresLog.SchemaReady(_logger, SchemaName, Math.Max(current, PostgresSchema.Migrations.Count), applied);
    }
}
