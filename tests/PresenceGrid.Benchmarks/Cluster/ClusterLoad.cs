using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using PresenceGrid.Grains;
using PresenceGrid.Hosting;
using PresenceGrid.Matrix;
using PresenceGrid.Placement;

namespace PresenceGrid.Benchmarks.Cluster;

/// <summary>
/// <c>cluster [silos] [seconds] [inFlight] [--owner]</c>: presence updates through an in-process Orleans cluster of N
/// silos (TestingHost: in-memory membership, Orleans' in-memory grain storage, real TCP between the silos), each update
/// entering at a random silo as a frontend call would, or with <c>--owner</c> at the user's owner silo as the SDK's
/// owner routing sends it. Separates Orleans' cross-silo cost from PostgreSQL and from several processes competing
/// for the cores.
/// </summary>
internal static class ClusterLoad
{
    public static async Task RunAsync(string[] args)
    {
        bool owner = args.Contains("--owner");
        args = [.. args.Where(a => !a.StartsWith("--", StringComparison.Ordinal))];
        int silos = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
        int seconds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 10;
        int inFlight = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 256;
        const int Users = 10_000;
        await using InProcessTestCluster cluster = new InProcessTestClusterBuilder((short)silos)
            .ConfigureSilo((_, silo) =>
            {
                silo.AddMemoryGrainStorageAsDefault();
                silo.AddPresenceGrid(o =>
                {
                    o.ServerNames.Add("bench");
                    o.Timings.RatelimitPerSecond = 0;
                });
            })
            .Build();
        await cluster.DeployAsync();
        InProcessSiloHandle[] handles = [.. cluster.GetActiveSilos()];
        PresenceService[] entries = [.. handles.Select(s => s.ServiceProvider.GetRequiredService<PresenceService>())];
        SiloAddress[] addresses = [.. handles.Select(h => h.SiloAddress)];
        string User(int i) => $"@u{i}:bench";
        int[] ownerOf = [.. Enumerable.Range(0, Users).Select(i =>
            Array.IndexOf(addresses, UserOwnerPlacementDirector.Owner(GrainId.Create(UserPresenceGrain.GrainType, User(i)), addresses)))];
        for (int i = 0; i < Users; i++)
        {
            await entries[i % entries.Length].SetMembershipAsync($"!r{i / 20}:bench", User(i), "join");
        }

        // Warm up: activate every user grain.
        await Parallel.ForEachAsync(Enumerable.Range(0, Users), new ParallelOptions { MaxDegreeOfParallelism = inFlight }, async (i, _) =>
            await entries[i % entries.Length].SetPresenceAsync(User(i), new PresenceStatusRequest(PresenceState.Online, "warm")));

        long done = 0;
        var latencies = new System.Collections.Concurrent.ConcurrentBag<double>();
        var clock = Stopwatch.StartNew();
        TimeSpan duration = TimeSpan.FromSeconds(seconds);
        await Task.WhenAll(Enumerable.Range(0, inFlight).Select(w => Task.Run(async () =>
        {
            var random = new Random(w);
            while (clock.Elapsed < duration)
            {
                long start = Stopwatch.GetTimestamp();
                int user = random.Next(Users);
                int entry = owner ? ownerOf[user] : random.Next(entries.Length);
                await entries[entry].SetPresenceAsync(User(user), new PresenceStatusRequest(random.Next(2) == 0 ? PresenceState.Online : PresenceState.Unavailable, "x"));
                if ((Interlocked.Increment(ref done) & 63) == 0)
                {
                    latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                }
            }
        })));
        double elapsed = clock.Elapsed.TotalSeconds;
        double[] sorted = [.. latencies.Order()];
        Console.WriteLine($"{silos} silos, {inFlight} in flight, entering at {(owner ? "the owner silo" : "a random silo")}: {done / elapsed:N0} updates/s; call p50 {sorted[sorted.Length / 2]:F2} ms, p99 {sorted[(int)(sorted.Length * 0.99)]:F2} ms");
    }
}
