using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using PresenceGrid.Postgres.Hosting;

namespace PresenceGrid.Postgres.Benchmarks;

/// <summary>The figures of one run.</summary>
internal sealed record RunResult(
    int Run,
    StorageKind Storage,
    long Writes,
    TimeSpan Elapsed,
    double P50Ms,
    double P99Ms,
    long Errors,
    long Commits,
    long WalBytes,
    (double Machine, double ThisProcess, double Postgres) Cores,
    double LoadAverage)
{
    public double WritesPerSecond => Writes / Elapsed.TotalSeconds;

    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"run={Run} storage={Name(Storage)} writes/s={WritesPerSecond:F0} p50={P50Ms:F2}ms p99={P99Ms:F2}ms writes={Writes} seconds={Elapsed.TotalSeconds:F1} errors={Errors} " +
        $"commits/s={Commits / Elapsed.TotalSeconds:F0} writes/commit={(Commits == 0 ? 0 : (double)Writes / Commits):F1} wal-bytes/write={(Writes == 0 ? 0 : (double)WalBytes / Writes):F0} " +
        $"cores: machine={Cores.Machine:F2} silo={Cores.ThisProcess:F2} postgres={Cores.Postgres:F2} cpu-us/write={CpuMicrosecondsPerWrite:F1} load1={LoadAverage:F2}");

    /// <summary>CPU the silo and PostgreSQL spent per acknowledged write (what neighbours on a shared machine change least).</summary>
    public double CpuMicrosecondsPerWrite => Writes == 0 ? 0 : (Cores.ThisProcess + Cores.Postgres) * 1e6 / WritesPerSecond;

    public static string Name(StorageKind storage) => storage == StorageKind.Postgres ? "PostgresGrainStorage" : "AdoNetGrainStorage";
}

/// <summary>One run: a silo with one storage, the grains written once, a warm-up, then the measured window.</summary>
internal sealed class WriteRun(BenchmarkOptions options, string connectionString, int postmasterPid)
{
    private static readonly string[] Presences = ["online", "unavailable", "offline"];

    private volatile int _phase; // 0 warm-up, 1 measured, 2 stopping

    public async Task<RunResult> RunAsync(int run, StorageKind storage)
    {
        await ResetDatabaseAsync().ConfigureAwait(false);
        var pooled = new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = options.PoolSize };
        if (storage == StorageKind.AdoNet && options.AdoNetNoResetOnClose)
        {
            pooled.NoResetOnClose = true;
        }

        using IHost host = BuildSilo(run, storage, pooled.ConnectionString);
        await host.StartAsync().ConfigureAwait(false);
        try
        {
            Orleans.IGrainFactory grains = host.Services.GetRequiredService<Orleans.IGrainFactory>();
            IPresenceWriterGrain[] users = Enumerable.Range(0, options.Grains)
                .Select(i => grains.GetGrain<IPresenceWriterGrain>(string.Create(CultureInfo.InvariantCulture, $"@user{i}:bench.example")))
                .ToArray();

            // Untimed: activate every grain (a state read) and make its first write (an insert).
            await Parallel.ForEachAsync(
                Enumerable.Range(0, users.Length),
                new ParallelOptions { MaxDegreeOfParallelism = options.Callers },
                async (i, _) => await users[i].SetPresence("online", null, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()).ConfigureAwait(false)).ConfigureAwait(false);

            // As in a running deployment, the planner knows the table's size: right after the
            // TRUNCATE it would plan the batch UPDATE as a sequential scan until autovacuum's analyze.
            await ExecuteAsync(storage == StorageKind.Postgres ? "ANALYZE presencegrid_grain_state" : "ANALYZE orleansstorage").ConfigureAwait(false);
            _phase = 0;
            var callers = new Caller[options.Callers];
            Task[] loops = new Task[callers.Length];
            for (int c = 0; c < callers.Length; c++)
            {
                callers[c] = new Caller();
                int first = c;
                loops[c] = Task.Run(() => LoopAsync(callers[first], users, first));
            }

            await Task.Delay(options.Warmup).ConfigureAwait(false);
            (long commits, long wal) before = await DatabaseCountersAsync().ConfigureAwait(false);
            CpuSample cpuBefore = CpuSample.Take(postmasterPid);
            long start = Stopwatch.GetTimestamp();
            _phase = 1;
            await Task.Delay(options.Duration).ConfigureAwait(false);
            _phase = 2;
            TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
            CpuSample cpuAfter = CpuSample.Take(postmasterPid);
            double load = LoadAverage();
            (long commits, long wal) after = await DatabaseCountersAsync().ConfigureAwait(false);
            await Task.WhenAll(loops).ConfigureAwait(false);

            long[] latencies = callers.SelectMany(c => c.Latencies).ToArray();
            Array.Sort(latencies);
            return new RunResult(
                run,
                storage,
                callers.Sum(c => c.Writes),
                elapsed,
                Percentile(latencies, 0.50),
                Percentile(latencies, 0.99),
                callers.Sum(c => c.Errors),
                after.commits - before.commits,
                after.wal - before.wal,
                cpuAfter.CoresSince(cpuBefore, elapsed),
                load);
        }
        finally
        {
            await host.StopAsync().ConfigureAwait(false);
            NpgsqlConnection.ClearAllPools();
        }
    }

    private IHost BuildSilo(int run, StorageKind storage, string pooledConnectionString)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        // The watchdog warns once at start that its first check "has not completed" since boot.
        builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning).AddFilter("Orleans.Runtime.Watchdog", LogLevel.Error);
        builder.UseOrleans(silo =>
        {
            // A fresh service id per run: every run starts from the same number of rows of its own.
            silo.UseLocalhostClustering(FreePort(), FreePort(), serviceId: string.Create(CultureInfo.InvariantCulture, $"bench-{Environment.ProcessId}-{run}"), clusterId: "bench");
            if (storage == StorageKind.Postgres)
            {
                silo.AddPostgresGrainStorage(PresenceWriterGrain.StorageName, o =>
                {
                    o.ConnectionString = pooledConnectionString;
                    if (options.GroupCommit is { } window)
                    {
                        o.GroupCommit = window;
                    }

                    if (options.Committers is { } committers)
                    {
                        o.Committers = committers;
                    }
                });
            }
            else
            {
                silo.AddAdoNetGrainStorage(PresenceWriterGrain.StorageName, o =>
                {
                    o.Invariant = "Npgsql";
                    o.ConnectionString = pooledConnectionString;
                });
            }
        });
        return builder.Build();
    }

    private async Task LoopAsync(Caller caller, IPresenceWriterGrain[] users, int first)
    {
        int next = first;
        int round = 0;
        while (_phase != 2)
        {
            int phaseAtStart = _phase;
            long started = Stopwatch.GetTimestamp();
            try
            {
                await users[next].SetPresence(Presences[round % Presences.Length], round % 2 == 0 ? null : "busy", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()).ConfigureAwait(false);
                if (_phase == 1)
                {
                    caller.Writes++;
                    if (phaseAtStart == 1)
                    {
                        caller.Latencies.Add(Stopwatch.GetTimestamp() - started);
                    }
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                caller.Errors++;
                if (caller.Errors == 1)
                {
                    await Console.Error.WriteLineAsync($"write failed: {ex.GetType().Name}: {ex.Message}").ConfigureAwait(false);
                }
            }

            next += options.Callers;
            if (next >= users.Length)
            {
                next = first;
                round++;
            }
        }
    }

    /// <summary>Every run starts alike: both storage tables empty (no bloat from the runs before), a checkpoint behind.</summary>
    private Task ResetDatabaseAsync() =>
        ExecuteAsync(
            """
            DO $$
            BEGIN
                IF to_regclass('presencegrid_grain_state') IS NOT NULL THEN
                    TRUNCATE presencegrid_grain_state;
                END IF;
                TRUNCATE orleansstorage;
            END
            $$;
            CHECKPOINT;
            """);

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    private async Task<(long Commits, long WalBytes)> DatabaseCountersAsync()
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        await using var command = new NpgsqlCommand(
            "SELECT xact_commit, (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint FROM pg_stat_database WHERE datname = current_database()",
            connection);
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
        await reader.ReadAsync().ConfigureAwait(false);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    private static double Percentile(long[] sortedTicks, double quantile) =>
        sortedTicks.Length == 0 ? double.NaN
        : sortedTicks[Math.Min(sortedTicks.Length - 1, (int)(quantile * sortedTicks.Length))] * 1000.0 / Stopwatch.Frequency;

    private static double LoadAverage() =>
        double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>One caller's counts (written by its loop only, read after it ends).</summary>
    private sealed class Caller
    {
        public long Writes { get; set; }

        public long Errors { get; set; }

        public List<long> Latencies { get; } = new(capacity: 1024);
    }
}
