using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Metadata;
using Orleans.Serialization;
using Orleans.Storage;
using PresenceGrid.Fanout;
using PresenceGrid.Hosting;
using PresenceGrid.Matrix;
using PresenceGrid.Sync;

namespace PresenceGrid.Benchmarks.Presence;

/// <summary>
/// The routing-and-fan-out load on one Orleans silo: N users in rooms of skewed sizes (many of 10–50 members,
/// a few of 1,000–5,000), about 5 rooms each; every user syncs (has an inbox); random users change
/// presence. Reports updates/s, deliveries/s, memory per online user (with the user grains active, then after Orleans
/// collected the idle ones) and the cost of an incremental sync that returns 1,000 changes; then the same load through
/// a naive Orleans fan-out (<see cref="NaiveUserGrain"/>: one grain call per recipient), awaited and one-way.
/// Run: <c>dotnet run -c Release --project tests/PresenceGrid.Benchmarks -- fanout [users] [updates] [--router] [--naive=N] [--storage=memory|memory-json|dictionary] [--alloc] [--stay-online] [--hold]</c>
/// (<c>--router</c>: the "always send to" router with one ALL user; <c>--naive=N</c>: N updates in each naive mode,
/// default 20,000, 0 skips them; <c>--storage</c>: the grain storage, see <see cref="StartSiloAsync"/>; <c>--alloc</c>:
/// allocation samples by type during the load; <c>--stay-online</c>: see below).
/// </summary>
internal static class FanoutLoad
{
    /// <summary>Calls in flight during a load: as many workers, each sending its next update when the last one is answered.</summary>
    private const int MaxInFlight = 512;

    public static async Task RunAsync(string[] args)
    {
        bool router = args.Contains("--router");
        // --hold: after the syncs, wait for Enter so a heap dump can be taken (dotnet-gcdump collect -p PID).
        bool hold = args.Contains("--hold");
        // --alloc: sample allocations by type during the load (GCAllocationTick events).
        bool alloc = args.Contains("--alloc");
        // --stay-online: sync_online_timeout and the idle timeout of an hour, so no user times out during the run: the
        // memory after idle collection is then of online users whose grains all sleep (by default users that PUT online
        // and never sync go offline after 30 s, and that timer wakes their grains again).
        bool stayOnline = args.Contains("--stay-online");
        int naiveUpdates = args.FirstOrDefault(a => a.StartsWith("--naive=", StringComparison.Ordinal)) is { } naive
            ? int.Parse(naive["--naive=".Length..], CultureInfo.InvariantCulture)
            : 20_000;
        string storage = args.FirstOrDefault(a => a.StartsWith("--storage=", StringComparison.Ordinal))?["--storage=".Length..] ?? "dictionary";
        args = [.. args.Where(a => !a.StartsWith("--", StringComparison.Ordinal))];
        int users = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 100_000;
        int updates = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 400_000;
        using IHost host = await StartSiloAsync(router, storage, stayOnline);
        using AllocationSampler? sampler = alloc ? new AllocationSampler() : null;
        await RunAsync(host.Services, users, updates, router, naiveUpdates, hold, sampler);
        await host.StopAsync();
    }

    private static async Task RunAsync(IServiceProvider services, int users, int updates, bool router, int naiveUpdates, bool hold, AllocationSampler? sampler)
    {
        var presence = services.GetRequiredService<PresenceService>();
        var index = services.GetRequiredService<RoomMembershipIndex>();
        var sync = services.GetRequiredService<PresenceSyncService>();
        var fanout = services.GetRequiredService<PresenceFanout>();
        IManagementGrain management = services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0);
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
        Console.WriteLine($"memory per online user beyond room edges: {(onlineBytes - roomEdgesBytes) / (double)users:F0} B (includes its inbox after {fanout.Deliveries} deliveries; {await management.GetTotalActivationCount():N0} activations)");

        ReferenceCosts(services, ids);

        // Load: random users change presence, up to MaxInFlight calls in flight.
        long deliveriesBefore = fanout.Deliveries;
        long logAppendsBefore = fanout.RoomLogAppends;
        long roomRecipientsBefore = fanout.RoomRecipients;
        stopwatch.Restart();
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
        int gen0Before = GC.CollectionCount(0);
        int gen1Before = GC.CollectionCount(1);
        int gen2Before = GC.CollectionCount(2);
        TimeSpan pausedBefore = GC.GetTotalPauseDuration();
        TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        sampler?.Start();
        await LoadAsync(users, updates, (user, request) => presence.SetPresenceAsync(ids[user].ToString(), request));
        double accepted = stopwatch.Elapsed.TotalSeconds;
        await presence.DrainAsync();
        double elapsed = stopwatch.Elapsed.TotalSeconds;
        double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
        long deliveries = fanout.Deliveries - deliveriesBefore;
        double oursPerSecond = updates / elapsed;
        Console.WriteLine($"updates: {updates} in {elapsed:F2} s (grain calls done in {accepted:F2} s) = {oursPerSecond:N0} updates/s; "
            + $"process CPU {cpu:F1} s = {cpu * 1e6 / updates:F1} µs per update ({cpu / elapsed:F2} cores busy)");
        int gen2 = GC.CollectionCount(2) - gen2Before;
        int gen1 = GC.CollectionCount(1) - gen1Before - gen2;
        int gen0 = GC.CollectionCount(0) - gen0Before - gen1 - gen2;
        Console.WriteLine($"allocated: {(GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore) / (double)updates:N0} B per update; {gen0 + gen1 + gen2} collections "
            + $"(gen0 {gen0}, gen1 {gen1}, gen2 {gen2}; {(GCSettings.LatencyMode == GCLatencyMode.Batch ? "blocking" : "background gen2")}), paused {(GC.GetTotalPauseDuration() - pausedBefore).TotalMilliseconds:N0} ms in all");
        GCMemoryInfo lastEphemeral = GC.GetGCMemoryInfo(GCKind.Ephemeral);
        Console.WriteLine($"last ephemeral collection: gen{lastEphemeral.Generation}, paused {lastEphemeral.PauseDurations[0].TotalMilliseconds:F0} ms, promoted {lastEphemeral.PromotedBytes / 1e6:F1} MB, "
            + $"pinned objects {lastEphemeral.PinnedObjectsCount}, heap {lastEphemeral.HeapSizeBytes / 1e6:F0} MB, fragmented {lastEphemeral.FragmentedBytes / 1e6:F0} MB");
        sampler?.Report(updates);
        long appends = fanout.RoomLogAppends - logAppendsBefore;
        long roomRecipients = fanout.RoomRecipients - roomRecipientsBefore;
        Console.WriteLine($"inbox deliveries: {deliveries:N0} = {deliveries / elapsed:N0}/s ({deliveries / (double)updates:F0} per update)");
        Console.WriteLine($"members reached through their rooms: {roomRecipients:N0} = {roomRecipients / elapsed:N0}/s ({roomRecipients / (double)updates:F0} per update; broadcast-room log appends: {appends:N0})");
        Console.WriteLine($"all recipients reached: {(deliveries + roomRecipients) / elapsed:N0}/s ({(deliveries + roomRecipients) / (double)updates:F0} per update)");

        // Every user syncs twice (as a client would), which lets inboxes drop what was read.
        long beforeSyncs = LiveHeapBytes();
        int activeAfterLoad = await management.GetTotalActivationCount();
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (id, _) =>
        {
            PresenceSyncResult first = await sync.SyncAsync(id, null, false, TimeSpan.Zero, CancellationToken.None);
            PresenceSyncResult second = await sync.SyncAsync(id, first.NextBatch, false, TimeSpan.Zero, CancellationToken.None);
            await sync.SyncAsync(id, second.NextBatch, false, TimeSpan.Zero, CancellationToken.None);
        });
        long afterSyncs = LiveHeapBytes();
        Console.WriteLine($"memory per online user beyond room edges, user grains active: after the load {(beforeSyncs - roomEdgesBytes) / (double)users:F0} B ({activeAfterLoad:N0} activations); "
            + $"after every user synced {(afterSyncs - roomEdgesBytes) / (double)users:F0} B ({await management.GetTotalActivationCount():N0} activations)");

        // Orleans collects a user grain idle for CollectionAgeLimit (2 minutes); force that now: the grains deactivate
        // and park their devices in the user table.
        stopwatch.Restart();
        await management.ForceActivationCollection(TimeSpan.Zero);
        double collecting = stopwatch.Elapsed.TotalSeconds;
        int activeAfterCollection = await management.GetTotalActivationCount();
        long afterCollection = LiveHeapBytes();
        Console.WriteLine($"memory per online user beyond room edges, idle user grains collected ({collecting:F1} s; {activeAfterCollection:N0} activations left): {(afterCollection - roomEdgesBytes) / (double)users:F0} B; "
            + $"managed heap {afterCollection / (1024.0 * 1024 * 1024):F2} GiB in all");
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

        if (naiveUpdates > 0)
        {
            await NaiveAsync(services, ids, users, naiveUpdates, router, oursPerSecond);
        }
    }

    /// <summary>The same load through the naive grains, awaited then one-way; prints each rate and ours against it.</summary>
    private static async Task NaiveAsync(IServiceProvider services, UserId[] ids, int users, int updates, bool router, double oursPerSecond)
    {
        UserTable table = services.GetRequiredService<UserTable>();
        NaiveFanoutCounters counters = services.GetRequiredService<NaiveFanoutCounters>();
        IGrainFactory grains = services.GetRequiredService<IGrainFactory>();
        int[] keys = [.. ids.Select(id => table.TryGetIndex(id.ToString(), out int user) ? user : throw new InvalidOperationException($"{id} is not in the user table"))];
        if (router)
        {
            counters.AllUser = table.TryGetIndex("@gobbler:bench", out int all) ? all : throw new InvalidOperationException("no ALL user");
        }

        // Warm-up: every naive user grain and every inbox grain activated, as the grid's user grains and inboxes are.
        var stopwatch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, table.Count), new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (user, _) =>
        {
            await grains.GetGrain<INaiveUserGrain>(user).Ping();
            await grains.GetGrain<INaiveInboxGrain>(user).Latest();
        });
        Console.WriteLine($"naive: {table.Count:N0} user and inbox grains activated in {stopwatch.Elapsed.TotalSeconds:F1} s");
        foreach (bool awaited in (bool[])[true, false])
        {
            long sentBefore = counters.Sent;
            long deliveredBefore = counters.Delivered;
            long allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
            TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            stopwatch.Restart();
            await LoadAsync(users, updates, async (user, request) =>
            {
                // One-way calls are not answered: hold the senders back while a window's worth of deliveries is queued.
                while (!awaited && counters.Sent - counters.Delivered > NaiveOneWayWindow)
                {
                    await Task.Delay(1);
                }

                await grains.GetGrain<INaiveUserGrain>(keys[user]).SetPresence(request.Presence, request.StatusMsg, awaited);
            });
            while (counters.Delivered < counters.Sent)
            {
                await Task.Delay(1);
            }

            double elapsed = stopwatch.Elapsed.TotalSeconds;
            double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
            long delivered = counters.Delivered - deliveredBefore;
            double perSecond = updates / elapsed;
            Console.WriteLine($"naive ({(awaited ? "awaited" : "[OneWay]")} call per recipient): {updates:N0} updates in {elapsed:F2} s = {perSecond:N0} updates/s; "
                + $"{delivered:N0} grain calls = {delivered / elapsed:N0}/s ({(counters.Sent - sentBefore) / (double)updates:F0} per update); "
                + $"process CPU {cpu * 1e6 / updates:F0} µs per update ({cpu / elapsed:F2} cores busy); allocated {(GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore) / (double)delivered:N0} B per call; ours is {oursPerSecond / perSecond:F1}x faster");
        }

        if (await grains.GetGrain<INaiveInboxGrain>(counters.AllUser >= 0 ? counters.AllUser : keys[0]).Latest() is null)
        {
            throw new InvalidOperationException("the naive fan-out delivered nothing");
        }
    }

    /// <summary>
    /// What making a user grain's reference costs: <c>GetGrain&lt;T&gt;(string)</c> (what <see cref="PresenceService"/> does per
    /// call) resolves the interface's <see cref="GrainInterfaceType"/> by reflection each time; with the interface and grain
    /// types resolved once, <c>GetGrain(GrainId, GrainInterfaceType)</c> does not.
    /// </summary>
    private static void ReferenceCosts(IServiceProvider services, UserId[] ids)
    {
        IGrainFactory grains = services.GetRequiredService<IGrainFactory>();
        GrainInterfaceType interfaceType = services.GetRequiredService<GrainInterfaceTypeResolver>().GetGrainInterfaceType(typeof(Grains.IUserPresenceGrain));
        string[] keys = [.. ids.Take(100_000).Select(id => id.ToString())];
        for (int round = 0; round < 2; round++)
        {
            // The second round is the one printed (the first warms both paths up).
            long allocated = GC.GetAllocatedBytesForCurrentThread();
            long start = Stopwatch.GetTimestamp();
            foreach (string key in keys)
            {
                _ = grains.GetGrain<Grains.IUserPresenceGrain>(key);
            }

            double generic = Stopwatch.GetElapsedTime(start).TotalMicroseconds / keys.Length;
            long genericBytes = (GC.GetAllocatedBytesForCurrentThread() - allocated) / keys.Length;
            allocated = GC.GetAllocatedBytesForCurrentThread();
            start = Stopwatch.GetTimestamp();
            foreach (string key in keys)
            {
                _ = (Grains.IUserPresenceGrain)grains.GetGrain(GrainId.Create(Grains.UserPresenceGrain.GrainType, key), interfaceType);
            }

            double resolved = Stopwatch.GetElapsedTime(start).TotalMicroseconds / keys.Length;
            long resolvedBytes = (GC.GetAllocatedBytesForCurrentThread() - allocated) / keys.Length;
            if (round == 1)
            {
                Console.WriteLine($"a user grain's reference: GetGrain<T>(string) {generic:F2} µs, {genericBytes} B; GetGrain(GrainId, GrainInterfaceType) {resolved:F2} µs, {resolvedBytes} B");
            }
        }
    }

    /// <summary>Deliveries the one-way naive mode may have queued before its senders wait.</summary>
    private const long NaiveOneWayWindow = 200_000;

    /// <summary>
    /// <paramref name="updates"/> presence changes of random users, up to <see cref="MaxInFlight"/> at once: as many
    /// workers, each sending its next update when the last one is answered (a task per worker only, so the harness adds no
    /// allocation of its own per update, and nothing per update stays reachable to count as memory per user).
    /// Update i: unavailable on even i, "busy" on every third; the pattern repeats every 6.
    /// </summary>
    private static async Task LoadAsync(int users, int updates, Func<int, PresenceStatusRequest, Task> send)
    {
        PresenceStatusRequest[] requests =
            [.. Enumerable.Range(0, 6).Select(i => new PresenceStatusRequest(i % 2 == 0 ? PresenceState.Unavailable : PresenceState.Online, i % 3 == 0 ? "busy" : null))];
        int sent = -1;
        int failed = 0;
        Exception? firstFailure = null;
        async Task SendAsync(int worker)
        {
            var mine = new Random(worker);
            for (int i = Interlocked.Increment(ref sent); i < updates; i = Interlocked.Increment(ref sent))
            {
                try
                {
                    await send(mine.Next(users), requests[i % 6]);
                }
                catch (Exception exception)
                {
                    Interlocked.CompareExchange(ref firstFailure, exception, null);
                    Interlocked.Increment(ref failed);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, MaxInFlight).Select(SendAsync));
        if (failed > 0)
        {
            throw new InvalidOperationException($"{failed} presence updates failed", firstFailure);
        }
    }

    /// <summary>One silo (localhost clustering on free ports, Orleans' in-memory grain storage) with presence and the naive grains.</summary>
    private static async Task<IHost> StartSiloAsync(bool router, string storage, bool stayOnline)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        // Warnings, less the scheduler's "took longer than 1 s" for the naive grains' long turns (a busy 2-core box).
        builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Warning).AddFilter("Orleans.Runtime.Scheduler", LogLevel.Error);
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort: FreePort(), gatewayPort: FreePort());
            // The naive awaited mode queues hundreds of thousands of calls at 512 updates in flight: measure its
            // throughput rather than time its calls out after Orleans' default 30 s.
            silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromMinutes(10));
            switch (storage)
            {
                case "memory-json":
                    // Orleans' memory storage as the embedded silo configures it: a storage grain call and JSON per write.
                    silo.AddMemoryGrainStorageAsDefault();
                    break;
                case "memory":
                    // The same with Orleans' binary serializer.
                    silo.AddMemoryGrainStorageAsDefault();
                    silo.Services.AddOptions<MemoryGrainStorageOptions>("Default")
                        .Configure<Serializer>((o, serializer) => o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer));
                    break;
                case "dictionary":
                    InProcessGrainStorage.AddTo(silo);
                    break;
                default:
                    throw new ArgumentException($"--storage: memory-json, memory or dictionary; got '{storage}'.");
            }

            Console.WriteLine($"grain storage: {storage}");
            silo.AddPresenceGrid(o =>
            {
                o.ServerNames.Add("bench");
                o.Timings.RatelimitPerSecond = 0;
                if (stayOnline)
                {
                    o.Timings.SyncOnlineTimeout = TimeSpan.FromHours(1);
                    o.Timings.IdleTimeout = TimeSpan.FromHours(1);
                }
            });
            silo.Services.AddSingleton<NaiveFanoutCounters>();
        });
        if (router)
        {
            builder.Services.AddPresenceModules(new ConfigurationBuilder()
                .AddInMemoryCollection(new Dictionary<string, string?>
                {
                    ["modules:0:module"] = "PresenceGrid.Modules.AlwaysSendToUsersRouter",
                    ["modules:0:config:always_send_to_users:0"] = "@gobbler:bench",
                })
                .Build());
        }

        IHost host = builder.Build();
        await host.StartAsync();
        return host;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
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
