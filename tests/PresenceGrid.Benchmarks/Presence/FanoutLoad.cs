using Microsoft.Extensions.Configuration;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using PresenceGrid.Fanout;
using PresenceGrid.Hosting;
using PresenceGrid.Matrix;
using PresenceGrid.Runtime.Configuration;
using PresenceGrid.Sync;
using PresenceGrid.Testing;

namespace PresenceGrid.Benchmarks.Presence;

/// <summary>
/// The routing-and-fan-out load on one silo: N users in rooms of skewed sizes (many of 10–50 members,
/// a few of 1,000–5,000), about 5 rooms each; every user syncs (has an inbox); random users change
/// presence. Reports updates/s, deliveries/s, memory per online user and the cost of an incremental
/// sync that returns 1,000 changes.
/// Run: <c>dotnet run -c Release --project tests/PresenceGrid.Benchmarks -- fanout [users] [updates] [--router]</c>
/// (<c>--router</c>: the "always send to" router with one ALL user).
/// </summary>
internal static class FanoutLoad
{
    public static async Task RunAsync(string[] args)
    {
        bool router = args.Contains("--router");
        // --hold: after the syncs, wait for Enter so a heap dump can be taken (dotnet-gcdump collect -p PID).
        bool hold = args.Contains("--hold");
        args = [.. args.Where(a => !a.StartsWith("--", StringComparison.Ordinal))];
        int users = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 100_000;
        int updates = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 400_000;
        Action<IServiceCollection>? extra = router
            ? sc => sc.AddPresenceModules(new ConfigurationBuilder()
                .AddInMemoryCollection(new Dictionary<string, string?>
                {
                    ["modules:0:module"] = "PresenceGrid.Modules.AlwaysSendToUsersRouter",
                    ["modules:0:config:always_send_to_users:0"] = "@gobbler:bench",
                })
                .Build())
            : null;
        await using InProcessSilo silo = await InProcessSilo.StartAsync(
            s => s.AddMemoryGrainStorage().AddGrainAssembly(PresenceGrains.Assembly)
                .Configure<SiloMessagingOptions>(o => o.MaxEnqueuedRequests = 0),
            configureServices: sc =>
            {
                sc.AddPresenceGrid(o =>
                {
                    o.ServerNames.Add("bench");
                    o.Timings.RatelimitPerSecond = 0;
                });
                extra?.Invoke(sc);
            });
        var presence = silo.Services.GetRequiredService<PresenceService>();
        var index = silo.Services.GetRequiredService<RoomMembershipIndex>();
        var sync = silo.Services.GetRequiredService<PresenceSyncService>();
        var fanout = silo.Services.GetRequiredService<PresenceFanout>();
        var random = new Random(42);
        UserId[] ids = [.. Enumerable.Range(0, users).Select(i => UserId.Parse($"@u{i}:bench"))];

        // Rooms: a few big ones, many small ones; each user in ~5 rooms.
        var stopwatch = Stopwatch.StartNew();
        long memberships = 0;
        int bigRooms = Math.Max(1, users / 20_000);
        for (int r = 0; r < bigRooms; r++)
        {
            int size = random.Next(1000, 5001);
            for (int m = 0; m < size; m++)
            {
                index.SetJoined($"!big{r}:bench", ids[random.Next(users)], joined: true);
                memberships++;
            }
        }

        int smallRoom = 0;
        long target = (long)users * 5;
        while (memberships < target)
        {
            int size = random.Next(10, 51);
            for (int m = 0; m < size; m++)
            {
                index.SetJoined($"!small{smallRoom}:bench", ids[random.Next(users)], joined: true);
            }

            memberships += size;
            smallRoom++;
        }

        if (router)
        {
            // The ALL user syncs once, so the fan-out knows its interest and it gets every change.
            await presence.SyncAsync("@gobbler:bench");
            Console.WriteLine("router: AlwaysSendToUsersRouter with one ALL user (@gobbler:bench)");
        }

        Console.WriteLine($"rooms: {bigRooms} big + {smallRoom} small, {memberships} memberships, built in {stopwatch.Elapsed.TotalSeconds:F1} s");
        // The silo executable runs the server GC; this project defaults to the workstation GC (DOTNET_gcServer=1 switches).
        Console.WriteLine($"GC: {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}, {(System.Runtime.GCSettings.LatencyMode == System.Runtime.GCLatencyMode.Batch ? "non-concurrent" : "concurrent")}; {Environment.ProcessorCount} cores");
        long roomEdgesBytes = LiveHeapBytes();

        // Every user goes online once and has an inbox (it syncs).
        foreach (UserId id in ids)
        {
            sync.InboxOf(id);
        }

        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (id, _) =>
            await presence.SetPresenceAsync(id.ToString(), new PresenceStatusRequest(PresenceState.Online, null)));
        await presence.DrainAsync();
        long onlineBytes = LiveHeapBytes();
        Console.WriteLine($"memory per online user beyond room edges: {(onlineBytes - roomEdgesBytes) / (double)users:F0} B (includes its inbox after {fanout.Deliveries} deliveries)");

        // Load: random users change presence, up to 512 calls in flight.
        long deliveriesBefore = fanout.Deliveries;
        long logAppendsBefore = fanout.RoomLogAppends;
        long roomRecipientsBefore = fanout.RoomRecipients;
        stopwatch.Restart();
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
        int gen0Before = GC.CollectionCount(0);
        TimeSpan pausedBefore = GC.GetTotalPauseDuration();
        // Up to 512 calls in flight: as many workers, each sending its next update when the last one is answered (a
        // task per worker only, so the harness adds no allocation of its own per update, and nothing per update stays
        // reachable to count as memory per user below).
        const int MaxInFlight = 512;
        // Update i: unavailable on even i, "busy" on every third; the pattern repeats every 6.
        PresenceStatusRequest[] requests =
            [.. Enumerable.Range(0, 6).Select(i => new PresenceStatusRequest(i % 2 == 0 ? PresenceState.Unavailable : PresenceState.Online, i % 3 == 0 ? "busy" : null))];
        int sent = -1;
        int failed = 0;
        async Task SendAsync(int worker)
        {
            var mine = new Random(worker);
            for (int i = Interlocked.Increment(ref sent); i < updates; i = Interlocked.Increment(ref sent))
            {
                try
                {
                    await presence.SetPresenceAsync(ids[mine.Next(users)].ToString(), requests[i % 6]);
                }
                catch (Exception)
                {
                    Interlocked.Increment(ref failed);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, MaxInFlight).Select(SendAsync));

        if (failed > 0)
        {
            throw new InvalidOperationException($"{failed} presence updates failed");
        }

        double accepted = stopwatch.Elapsed.TotalSeconds;
        await presence.DrainAsync();
        double elapsed = stopwatch.Elapsed.TotalSeconds;
        long deliveries = fanout.Deliveries - deliveriesBefore;
        Console.WriteLine($"updates: {updates} in {elapsed:F2} s (grain calls done in {accepted:F2} s) = {updates / elapsed:N0} updates/s");
        Console.WriteLine($"allocated: {(GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore) / (double)updates:N0} B per update; {GC.CollectionCount(0) - gen0Before} collections, "
            + $"paused {(GC.GetTotalPauseDuration() - pausedBefore).TotalMilliseconds:N0} ms in all");
        long appends = fanout.RoomLogAppends - logAppendsBefore;
        long roomRecipients = fanout.RoomRecipients - roomRecipientsBefore;
        Console.WriteLine($"inbox deliveries: {deliveries:N0} = {deliveries / elapsed:N0}/s ({deliveries / (double)updates:F0} per update)");
        Console.WriteLine($"members reached through their rooms: {roomRecipients:N0} = {roomRecipients / elapsed:N0}/s ({roomRecipients / (double)updates:F0} per update; broadcast-room log appends: {appends:N0})");
        Console.WriteLine($"all recipients reached: {(deliveries + roomRecipients) / elapsed:N0}/s ({(deliveries + roomRecipients) / (double)updates:F0} per update)");

        // Every user syncs twice (as a client would), which lets inboxes drop what was read.
        long beforeSyncs = LiveHeapBytes();
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (id, _) =>
        {
            PresenceSyncResult first = await sync.SyncAsync(id, null, false, TimeSpan.Zero, CancellationToken.None);
            PresenceSyncResult second = await sync.SyncAsync(id, first.NextBatch, false, TimeSpan.Zero, CancellationToken.None);
            await sync.SyncAsync(id, second.NextBatch, false, TimeSpan.Zero, CancellationToken.None);
        });
        long afterSyncs = LiveHeapBytes();
        Console.WriteLine($"memory per online user beyond room edges, after the load: {(beforeSyncs - roomEdgesBytes) / (double)users:F0} B; after every user synced: {(afterSyncs - roomEdgesBytes) / (double)users:F0} B");
        if (hold)
        {
            Console.WriteLine($"holding for a heap dump (pid {Environment.ProcessId}); press Enter to go on");
            Console.ReadLine();
        }

        // Incremental sync of a user with 1,000 interested users who all changed.
        UserId reader = UserId.Parse("@reader:bench");
        for (int i = 0; i < 1000; i++)
        {
            index.SetJoined("!thousand:bench", ids[i], joined: true);
        }

        index.SetJoined("!thousand:bench", reader, joined: true);
        PresenceSyncResult initial = await presence.SyncAsync(reader.ToString());
        await Parallel.ForEachAsync(ids.Take(1000), async (id, _) =>
            await presence.SetPresenceAsync(id.ToString(), new PresenceStatusRequest(PresenceState.Unavailable, "later")));
        await presence.DrainAsync();
        // Warm-up syncs first (their code reaches its optimized tier), and a collection, so a
        // collection that the load phase's garbage would cause does not land among the samples.
        for (int i = 0; i < 50; i++)
        {
            await presence.SyncAsync(reader.ToString(), initial.NextBatch);
        }

        GC.Collect();
        var samples = new List<double>();
        int collectionsBefore = GC.CollectionCount(0);
        for (int i = 0; i < 200; i++)
        {
            long start = Stopwatch.GetTimestamp();
            PresenceSyncResult result = await presence.SyncAsync(reader.ToString(), initial.NextBatch);
            samples.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            if (result.Events.Count < 1000)
            {
                throw new InvalidOperationException($"expected ≥ 1000 events, got {result.Events.Count}");
            }
        }

        samples.Sort();
        int collections = GC.CollectionCount(0) - collectionsBefore;
        Console.WriteLine($"incremental sync with 1,000 changed interested users: p50 {samples[100]:F3} ms, p99 {samples[198]:F3} ms, max {samples[199]:F3} ms ({collections} collections during the 200 syncs)");
    }

    /// <summary>
    /// Bytes of live objects after a blocking, compacting full collection (heap size minus
    /// fragmentation), with the GC's own estimate alongside for comparison with earlier figures.
    /// </summary>
    private static long LiveHeapBytes()
    {
        System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GCMemoryInfo info = GC.GetGCMemoryInfo(GCKind.FullBlocking);
        long live = info.HeapSizeBytes - info.FragmentedBytes;
        Console.WriteLine($"  (heap: {live:N0} B live after a compacting collection; GC.GetTotalMemory says {GC.GetTotalMemory(forceFullCollection: false):N0} B)");
        return live;
    }
}
