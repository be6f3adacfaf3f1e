using System.Globalization;

namespace PresenceGrid.Postgres.Benchmarks;

/// <summary>The grain storage a run measures.</summary>
internal enum StorageKind
{
    /// <summary>PresenceGrid's <c>PostgresGrainStorage</c> (group commit).</summary>
    Postgres,

    /// <summary>Orleans' <c>AdoNetGrainStorage</c> (Microsoft.Orleans.Persistence.AdoNet, invariant "Npgsql").</summary>
    AdoNet,
}

/// <summary>The command line: what to measure, for how long, against which database.</summary>
internal sealed class BenchmarkOptions
{
    public const string Usage = """
        pgrid-storage-bench: durable acknowledged grain-state writes per second on ONE Orleans silo
        with PostgreSQL on loopback, PresenceGrid's PostgresGrainStorage against Orleans'
        AdoNetGrainStorage (Microsoft.Orleans.Persistence.AdoNet, invariant "Npgsql"), alternating.

        Each run empties both storage tables and checkpoints, starts a silo with one storage,
        writes every grain once (activation + first write, untimed), analyzes the table, warms up, then for the measured window counts the writes whose
        WriteStateAsync completed (after the database commit: synchronous_commit stays on), with
        their p50/p99 latency, and prints one line.

        Usage: pgrid-storage-bench [options]
          --postgres CONNSTRING  use this database (needs rights to create tables) instead of
                                 starting a private PostgreSQL (fsync=off, synchronous_commit=on)
          --order LIST           the runs, in order: p = PostgresGrainStorage, a = AdoNet
                                 (default: papa)
          --grains N             user-like grains (default 50000)
          --callers N            concurrent callers, each awaiting one write at a time (default 1000)
          --warmup SECONDS       warm-up before each measured window (default 5)
          --duration SECONDS     measured window (default 15)
          --group-commit MS      PostgresGrainStorage's group commit window (default: the provider's, 2)
          --committers N         PostgresGrainStorage's committers (default: the provider's, 2)
          --pool N               Npgsql 'Maximum Pool Size' for both storages (default 40)
          --adonet-no-reset      AdoNet's connections with 'No Reset On Close=true' (Npgsql's default
                                 resets a pooled connection with DISCARD ALL, which also drops the
                                 cached plans of its writetostorage function)
          --help                 this text
        """;

    public string? ConnectionString { get; private set; }

    public IReadOnlyList<StorageKind> Order { get; private set; } = [StorageKind.Postgres, StorageKind.AdoNet, StorageKind.Postgres, StorageKind.AdoNet];

    public int Grains { get; private set; } = 50_000;

    public int Callers { get; private set; } = 1_000;

    public TimeSpan Warmup { get; private set; } = TimeSpan.FromSeconds(5);

    public TimeSpan Duration { get; private set; } = TimeSpan.FromSeconds(15);

    public TimeSpan? GroupCommit { get; private set; }

    public int? Committers { get; private set; }

    public int PoolSize { get; private set; } = 40;

    public bool AdoNetNoResetOnClose { get; private set; }

    public bool ShowHelp { get; private set; }

    /// <summary>Parses <paramref name="args"/>; throws <see cref="ArgumentException"/> naming the bad option.</summary>
    public static BenchmarkOptions Parse(IReadOnlyList<string> args)
    {
        var options = new BenchmarkOptions();
        for (int i = 0; i < args.Count; i++)
        {
            string name = args[i];
            if (name is "--help" or "-h")
            {
                options.ShowHelp = true;
                continue;
            }

            if (name == "--adonet-no-reset")
            {
                options.AdoNetNoResetOnClose = true;
                continue;
            }

            string value = i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{name} needs a value.");
            switch (name)
            {
                case "--postgres":
                    options.ConnectionString = value;
                    break;
                case "--order":
                    options.Order = ParseOrder(value);
                    break;
                case "--grains":
                    options.Grains = ParseInt(name, value, 1);
                    break;
                case "--callers":
                    options.Callers = ParseInt(name, value, 1);
                    break;
                case "--warmup":
                    options.Warmup = TimeSpan.FromSeconds(ParseInt(name, value, 0));
                    break;
                case "--duration":
                    options.Duration = TimeSpan.FromSeconds(ParseInt(name, value, 1));
                    break;
                case "--group-commit":
                    options.GroupCommit = TimeSpan.FromMilliseconds(ParseDouble(name, value));
                    break;
                case "--committers":
                    options.Committers = ParseInt(name, value, 1);
                    break;
                case "--pool":
                    options.PoolSize = ParseInt(name, value, 2);
                    break;
                default:
                    throw new ArgumentException($"Unknown option '{name}' (see --help).");
            }
        }

        if (options.Callers > options.Grains)
        {
            throw new ArgumentException($"--callers ({options.Callers}) must not exceed --grains ({options.Grains}): each caller writes its own grains.");
        }

        return options;
    }

    private static List<StorageKind> ParseOrder(string value)
    {
        if (value.Length == 0 || value.Any(c => c is not ('p' or 'a')))
        {
            throw new ArgumentException($"--order '{value}': use the letters p (PostgresGrainStorage) and a (AdoNet), e.g. papa.");
        }

        return value.Select(c => c == 'p' ? StorageKind.Postgres : StorageKind.AdoNet).ToList();
    }

    private static int ParseInt(string name, string value, int min) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int result) && result >= min
            ? result
            : throw new ArgumentException($"{name} '{value}': expected a whole number >= {min}.");

    private static double ParseDouble(string name, string value) =>
        double.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double result) && result <= 1000
            ? result
            : throw new ArgumentException($"{name} '{value}': expected milliseconds between 0 and 1000.");
}
