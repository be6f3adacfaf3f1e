using System.Globalization;
using PresenceGrid.Testing;

namespace PresenceGrid.Postgres.Benchmarks;

/// <summary>The load generator's entry point (see <see cref="BenchmarkOptions.Usage"/>).</summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        BenchmarkOptions options;
        try
        {
            options = BenchmarkOptions.Parse(args);
        }
        catch (ArgumentException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message).ConfigureAwait(false);
            return 2;
        }

        if (options.ShowHelp)
        {
            Console.WriteLine(BenchmarkOptions.Usage);
            return 0;
        }

        PostgresServer? server = null;
        try
        {
            string connectionString;
            int postmasterPid = 0;
            if (options.ConnectionString is { } given)
            {
                connectionString = given;
                postmasterPid = await LocalPostmasterPidAsync(given).ConfigureAwait(false);
            }
            else
            {
                server = await PostgresServer.StartAsync().ConfigureAwait(false);
                connectionString = await server.CreateDatabaseAsync("storage_bench").ConfigureAwait(false);
                postmasterPid = int.Parse(File.ReadLines(Path.Combine(server.DataDirectory, "postmaster.pid")).First(), CultureInfo.InvariantCulture);
            }

            await AdoNetSchema.ApplyAsync(connectionString).ConfigureAwait(false);
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"# grains={options.Grains} callers={options.Callers} warmup={options.Warmup.TotalSeconds}s duration={options.Duration.TotalSeconds}s pool={options.PoolSize} adonet-no-reset={options.AdoNetNoResetOnClose} group-commit={(options.GroupCommit is { } g ? $"{g.TotalMilliseconds}ms" : "default")} committers={(options.Committers is { } n ? n.ToString(CultureInfo.InvariantCulture) : "default")} nproc={Environment.ProcessorCount} postgres={(server is null ? "given" : "private, fsync=off, synchronous_commit=on")}"));

            var results = new List<RunResult>();
            var run = new WriteRun(options, connectionString, postmasterPid);
            for (int i = 0; i < options.Order.Count; i++)
            {
                RunResult result = await run.RunAsync(i + 1, options.Order[i]).ConfigureAwait(false);
                results.Add(result);
                Console.WriteLine(result);
            }

            PrintSummary(results);
            return results.Any(r => r.Errors > 0) ? 1 : 0;
        }
        finally
        {
            if (server is not null)
            {
                await server.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>The server's postmaster, when it runs on this machine (a backend's parent); else 0 (its CPU is then not reported).</summary>
    private static async Task<int> LocalPostmasterPidAsync(string connectionString)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        await using var command = new Npgsql.NpgsqlCommand("SELECT pg_backend_pid()", connection);
        int backend = (int)(await command.ExecuteScalarAsync().ConfigureAwait(false))!;
        string stat = Path.Combine("/proc", backend.ToString(CultureInfo.InvariantCulture), "stat");
        if (!File.Exists(stat))
        {
            return 0;
        }

        string text = await File.ReadAllTextAsync(stat).ConfigureAwait(false);
        return int.Parse(text[(text.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
    }

    private static void PrintSummary(List<RunResult> results)
    {
        double? Median(StorageKind storage)
        {
            double[] rates = results.Where(r => r.Storage == storage).Select(r => r.WritesPerSecond).Order().ToArray();
            return rates.Length == 0 ? null : rates.Length % 2 == 1 ? rates[rates.Length / 2] : (rates[(rates.Length / 2) - 1] + rates[rates.Length / 2]) / 2;
        }

        double? ours = Median(StorageKind.Postgres);
        double? adoNet = Median(StorageKind.AdoNet);
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"# median writes/s: PostgresGrainStorage={ours:F0} AdoNetGrainStorage={adoNet:F0} ratio={(ours is { } o && adoNet is { } a && a > 0 ? $"{o / a:F1}x" : "n/a")}"));
    }
}
