using System.Globalization;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using PresenceGrid.Runtime.GrainDirectory;
using PresenceGrid.Runtime.Membership;

namespace PresenceGrid.Runtime.Postgres;

/// <summary>
/// The membership table in PostgreSQL. Leases are judged by the database's <c>now()</c> only;
/// epochs come from the <c>silo_epoch</c> sequence. Every status change bumps
/// <c>cluster_version</c>, whose trigger notifies <c>&lt;schema&gt;_members</c>; a dedicated
/// connection LISTENs for it, and a poll of the version backs it up.
/// </summary>
/// <remarks>
/// Declare-dead guard: right after a database restart every lease looks lapsed (leases are
/// absolute database times), so a silo is declared dead only once the postmaster has been up for
/// more than twice <em>that silo's</em> lease. The lease is stored per row (<c>lease_ms</c>, set
/// at join and on every renewal) because <see cref="DeclareDeadAsync"/> only receives the grace.
/// </remarks>
internal sealed class PostgresMembershipTable : IMembershipTable, IAsyncDisposable
{
    private const string BumpVersion = "UPDATE cluster_version SET version = version + 1, changed_at = now()";

    private readonly PostgresCluster _cluster;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _startLock = new();
    private Task? _listenLoop;
    private Task? _pollLoop;
    private long _lastVersion = -1;
    private int _listenerConnects;
    private int _listenerProcessId;
    private long _notificationsReceived;

    public PostgresMembershipTable(PostgresCluster cluster)
    {
        _cluster = cluster;
        _logger = cluster.LoggerFactory.CreateLogger<PostgresMembershipTable>();
    }

    public event Action<long>? VersionHint;

    /// <summary>How many times the listener connected (1 + reconnects).</summary>
    internal int ListenerConnects => Volatile.Read(ref _listenerConnects);

    /// <summary>The backend process id of the LISTEN connection (0 when not connected).</summary>
    internal int ListenerProcessId => Volatile.Read(ref _listenerProcessId);

    /// <summary>How many notifications the listener received.</summary>
    internal long NotificationsReceived => Interlocked.Read(ref _notificationsReceived);

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await _cluster.EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        lock (_startLock)
        {
            if (_listenLoop is null && !_stopping.IsCancellationRequested)
            {
                _listenLoop = Task.Run(() => ListenLoopAsync(_stopping.Token), CancellationToken.None);
                _pollLoop = Task.Run(() => PollLoopAsync(_stopping.Token), CancellationToken.None);
            }
        }
    }

    public Task<SiloAddress> JoinAsync(string endpoint, string name, string? httpEndpoint, TimeSpan lease, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(endpoint);
        ArgumentNullException.ThrowIfNull(name);
        ValidateLease(lease);

        // Not idempotent: a retry after a lost reply leaves an orphan Joining row, which lapses and
        // is declared dead like any silo that stops renewing.
        return _cluster.RunAsync(
            "membership join",
            async (connection, ct) =>
            {
                await using var command = new NpgsqlCommand(
                    $"""
                    WITH s AS (
                        INSERT INTO silo (silo_id, epoch, name, http_endpoint, status, lease_until, lease_ms)
                        VALUES (@endpoint, nextval('silo_epoch'), @name, @http, 1, now() + @lease, @lease_ms)
                        RETURNING epoch),
                    v AS ({BumpVersion} WHERE EXISTS (SELECT 1 FROM s) RETURNING version)
                    SELECT s.epoch, v.version FROM s, v
                    """,
                    connection);
                command.Parameters.AddWithValue("endpoint", endpoint);
                command.Parameters.AddWithValue("name", name);
                command.Parameters.Add(new NpgsqlParameter<string?>("http", NpgsqlDbType.Text) { TypedValue = httpEndpoint });
                command.Parameters.AddWithValue("lease", lease);
                command.Parameters.AddWithValue("lease_ms", LeaseMilliseconds(lease));
                await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await reader.ReadAsync(ct).ConfigureAwait(false);
                var address = new SiloAddress(endpoint, reader.GetInt64(0));
                PostgresLog.SiloJoined(_logger, name, address.ToString());
                return address;
            },
            cancellationToken);
    }

    public Task<TimeSpan?> RenewLeaseAsync(SiloAddress silo, TimeSpan lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ValidateLease(lease);
        return _cluster.RunAsync(
            "membership lease renewal",
            async (connection, ct) =>
            {
                await using var command = new NpgsqlCommand(
                    """
                    UPDATE silo SET lease_until = now() + @lease, lease_ms = @lease_ms
                     WHERE silo_id = @silo AND epoch = @epoch AND status < 4
                    RETURNING lease_until - now()
                    """,
                    connection);
                command.Parameters.AddWithValue("lease", lease);
                command.Parameters.AddWithValue("lease_ms", LeaseMilliseconds(lease));
                command.Parameters.AddWithValue("silo", silo.Endpoint);
                command.Parameters.AddWithValue("epoch", silo.Generation);
                object? left = await command.ExecuteScalarAsync(ct).ConfigureAwait(false);
                return left is TimeSpan remaining ? remaining : (TimeSpan?)null;
            },
            cancellationToken);
    }

    public Task<bool> SetStatusAsync(SiloAddress silo, SiloStatus status, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(silo);
        if (status is not (SiloStatus.Active or SiloStatus.Leaving or SiloStatus.Dead))
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "A silo can only be set Active, Leaving or Dead.");
        }

        return _cluster.RunAsync(
            "membership status change",
            async (connection, ct) =>
            {
                // Statement 1 moves the status forward (bumping the version only when it moved);
                // statement 2 reads the row afresh, so a silo already at or past the status but
                // not dead still answers true.
                await using var batch = new NpgsqlBatch(connection)
                {
                    BatchCommands =
                    {
                        new NpgsqlBatchCommand(
                            $"""
                            WITH u AS (
                                UPDATE silo SET status = @status, died_at = CASE WHEN @status = 4 THEN now() ELSE died_at END
                                 WHERE silo_id = @silo AND epoch = @epoch AND status < @status AND status < 4
                                RETURNING 1)
                            {BumpVersion} WHERE EXISTS (SELECT 1 FROM u) RETURNING version
                            """),
                        new NpgsqlBatchCommand("SELECT status FROM silo WHERE silo_id = @silo AND epoch = @epoch"),
                    },
                };
                foreach (NpgsqlBatchCommand command in batch.BatchCommands)
                {
                    command.Parameters.AddWithValue("status", (short)status);
                    command.Parameters.AddWithValue("silo", silo.Endpoint);
                    command.Parameters.AddWithValue("epoch", silo.Generation);
                }

                await using NpgsqlDataReader reader = await batch.ExecuteReaderAsync(ct).ConfigureAwait(false);
                bool moved = await reader.ReadAsync(ct).ConfigureAwait(false);
                await reader.NextResultAsync(ct).ConfigureAwait(false);
                short? now = await reader.ReadAsync(ct).ConfigureAwait(false) ? reader.GetInt16(0) : null;
                return moved || now is < 4;
            },
            cancellationToken);
    }

    public Task<IReadOnlyList<SiloAddress>> DeclareDeadAsync(TimeSpan grace, CancellationToken cancellationToken)
    {
        if (grace < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(grace), grace, "The grace must not be negative.");
        }

        return _cluster.RunAsync<IReadOnlyList<SiloAddress>>(
            "membership declare-dead",
            async (connection, ct) =>
            {
                await using var command = new NpgsqlCommand(
                    $"""
                    WITH dead AS (
                        UPDATE silo SET status = 4, died_at = now()
                         WHERE status < 4 AND lease_until < now() - @grace
                           AND now() - pg_postmaster_start_time() > 2 * lease_ms * interval '1 millisecond'
                        RETURNING silo_id, epoch),
                    v AS ({BumpVersion} WHERE EXISTS (SELECT 1 FROM dead) RETURNING version)
                    SELECT silo_id, epoch FROM dead
                    """,
                    connection);
                command.Parameters.AddWithValue("grace", grace);
                var declared = new List<SiloAddress>();
                await using (NpgsqlDataReader reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(ct).ConfigureAwait(false))
                    {
                        declared.Add(new SiloAddress(reader.GetString(0), reader.GetInt64(1)));
                    }
                }

                if (declared.Count > 0)
                {
                    PostgresLog.SilosDeclaredDead(_logger, declared.Count, string.Join(", ", declared));
                }

                return declared;
            },
            cancellationToken);
    }

    public Task<MembershipView> ReadAsync(CancellationToken cancellationToken) =>
        _cluster.RunAsync(
            "membership read",
            async (connection, ct) =>
            {
                // One statement, one snapshot: the version and the rows agree.
                await using var command = new NpgsqlCommand(
                    """
                    SELECT v.version, s.silo_id, s.epoch, s.name, s.status, s.http_endpoint
                      FROM cluster_version v LEFT JOIN silo s ON true
                     ORDER BY s.silo_id, s.epoch
                    """,
                    connection);
                long version = -1;
                var silos = new List<SiloEntry>();
                await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    version = reader.GetInt64(0);
                    if (!reader.IsDBNull(1))
                    {
                        silos.Add(new SiloEntry(
                            new SiloAddress(reader.GetString(1), reader.GetInt64(2)),
                            reader.GetString(3),
                            (SiloStatus)reader.GetInt16(4),
                            reader.IsDBNull(5) ? null : reader.GetString(5)));
                    }
                }

                return new MembershipView(version, silos);
            },
            cancellationToken);

    public Task<long> ReadVersionAsync(CancellationToken cancellationToken) =>
        _cluster.RunAsync(
            "membership version read",
            async (connection, ct) =>
            {
                await using var command = new NpgsqlCommand("SELECT version FROM cluster_version", connection);
                return Convert.ToInt64(await command.ExecuteScalarAsync(ct).ConfigureAwait(false), CultureInfo.InvariantCulture);
            },
            cancellationToken);

    private bool _disposed;

    public async ValueTask DisposeAsync()
    {
        lock (_startLock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _stopping.Cancel();
        }

        foreach (Task? loop in new[] { _listenLoop, _pollLoop })
        {
            if (loop is not null)
            {
                await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        _stopping.Dispose();
    }

    private static void ValidateLease(TimeSpan lease)
    {
        if (lease <= TimeSpan.Zero || lease > TimeSpan.FromHours(1))
        {
            throw new ArgumentOutOfRangeException(nameof(lease), lease, "The lease must be positive and at most an hour.");
        }
    }

    private static int LeaseMilliseconds(TimeSpan lease) => (int)Math.Ceiling(lease.TotalMilliseconds);

    private async Task ListenLoopAsync(CancellationToken cancellationToken)
    {
        TimeSpan backoff = TimeSpan.FromMilliseconds(100);
        string channel = _cluster.NotifyChannel;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await using NpgsqlConnection connection = await _cluster.ListenDataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                connection.Notification += (_, e) =>
                {
                    Interlocked.Increment(ref _notificationsReceived);
                    if (long.TryParse(e.Payload, NumberStyles.Integer, CultureInfo.InvariantCulture, out long version))
                    {
                        Observe(version, force: true);
                    }
                };
                await using (var listen = new NpgsqlCommand($"LISTEN \"{channel}\"", connection))
                {
                    await listen.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                Volatile.Write(ref _listenerProcessId, connection.ProcessID);
                Interlocked.Increment(ref _listenerConnects);
                PostgresLog.ListenerConnected(_logger, channel, connection.ProcessID);

                // Anything may have changed while not listening: hint a full re-read.
                await using (var read = new NpgsqlCommand("SELECT version FROM cluster_version", connection))
                {
                    Observe(Convert.ToInt64(await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture), force: true);
                }

                backoff = TimeSpan.FromMilliseconds(100);
                while (true)
                {
                    await connection.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                Volatile.Write(ref _listenerProcessId, 0);
                PostgresLog.ListenerFailed(_logger, ex, (int)backoff.TotalMilliseconds);
                try
                {
                    await Task.Delay(backoff, _cluster.TimeProvider, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 5_000));
            }
        }
    }

    private async Task PollLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_cluster.Options.VersionPollInterval, _cluster.TimeProvider, cancellationToken).ConfigureAwait(false);
                await using NpgsqlConnection connection = await _cluster.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                await using var command = new NpgsqlCommand("SELECT version FROM cluster_version", connection);
                Observe(Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture), force: false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                if (PostgresCluster.IsTransient(ex))
                {
                    _cluster.DataSource.Clear();
                }

                PostgresLog.VersionPollFailed(_logger, ex);
            }
        }
    }

    /// <summary>Raises <see cref="VersionHint"/> for a notification (always) or for a poll (only when the version moved).</summary>
    private void Observe(long version, bool force)
    {
        long previous = Interlocked.Exchange(ref _lastVersion, version);
        if (force || previous != version)
        {
            try
            {
                VersionHint?.Invoke(version);
            }
            catch (Exception ex)
            {
                PostgresLog.VersionHintHandlerFailed(_logger, ex, version);
            }
        }
    }
}
