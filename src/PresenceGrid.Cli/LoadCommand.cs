using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using PresenceGrid.Client;

namespace PresenceGrid.Cli;

/// <summary>
/// <c>pgrid load</c>: synthetic users in rooms, presence updates as fast as the concurrency allows,
/// watchers that measure change-to-delivery latency, and a live progress line. The silo should run
/// with <c>rc_presence.per_second: 0</c>, or most updates are refused with 429 (counted separately, with a hint).
/// Each watcher times a sent change once, at its first delivery in the state sent (<see cref="LoadChanges"/>).
/// </summary>
internal static class LoadCommand
{
    /// <summary>The <c>load</c> command (it takes --url and --token, as every command that talks to silos).</summary>
    /// <returns>The command.</returns>
    public static Command Build()
    {
        var users = PgridCommands.IntOption("--users", 1000, 1, "Synthetic users.");
        var roomSize = PgridCommands.IntOption("--room-size", 20, 1, "Members per room.");
        var server = new Option<string>("--server") { DefaultValueFactory = _ => "localhost", Description = "The grid's server_name." };
        var seconds = PgridCommands.IntOption("--seconds", 10, 1, "How long to send updates, in seconds.");
        var warmup = PgridCommands.IntOption(
            "--warmup", 0, 0, "Seconds of load before the measured --seconds (the silos' JIT reaches steady code); nothing sent during them is counted.");
        var concurrency = PgridCommands.IntOption("--concurrency", 64, 1, "Requests in flight.");
        var watchers = PgridCommands.IntOption("--watchers", 50, 0, "Users whose watch streams measure delivery latency.");
        var syncs = new Option<bool>("--syncs") { Description = "Send incremental syncs (each worker one user, from its last token) instead of status updates." };
        var routeToOwner = new Option<bool>("--route-to-owner")
        {
            Description = "Send each user's requests to the silo that owns the user (the SDK's owner routing over every --url), "
                + "instead of worker i to silo i mod N. Off by default, so figures stay comparable with earlier runs.",
        };
        var h2c = new Option<bool>("--h2c")
        {
            Description = "Speak HTTP/2 with prior knowledge (cleartext h2c): every --url must be one of the silos' --h2c-urls endpoints. "
                + "Requests share one connection per silo instead of one connection each.",
        };
        var rate = new Option<int>("--rate")
        {
            DefaultValueFactory = _ => 0,
            Description = "Open loop: send this many updates per second in all, evenly paced over the workers, whatever the latency "
                + "(--concurrency caps the requests in flight). 0 (the default) is closed loop: every worker sends again as soon as it is answered.",
        };
        rate.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 0)
            {
                result.AddError("--rate must be 0 (closed loop) or a positive number of updates per second.");
            }
        });
        var reportEvery = PgridCommands.IntOption(
            "--report-every", 0, 0, "Also print a line every this many measured seconds: updates/s, PUT and change-to-delivery p99 of those seconds, "
                + "syncs, failures, and the silos' managed heap and working set (a soak run). 0 (the default): only the final summary.");
        var syncers = PgridCommands.IntOption(
            "--syncers", 0, 0, "Users that also sync incrementally once a second each, from their last token, alongside the updates (a mixed load).");
        Command command = PgridCommands.ClientCommand("load", "Generate presence load against a running grid and report updates/s, deliveries/s and latencies.",
            [users, roomSize, server, seconds, warmup, concurrency, watchers, syncs, routeToOwner, h2c, rate, reportEvery, syncers]);
        command.Validators.Add(result =>
        {
            if (result.GetValue(syncers) > 0 && result.GetValue(syncs))
            {
                result.AddError("--syncers adds syncs to a run of status updates; it cannot be combined with --syncs.");
            }

            if (result.GetValue(rate) > 0 && result.GetValue(syncs))
            {
                result.AddError("--rate paces status updates; it cannot be combined with --syncs.");
            }
        });
        command.SetAction(async (parse, ct) =>
        {
            // With several --url, the load is spread over the silos: worker i talks to silo i mod n
            // first (failing over to the others), and /metrics are summed over all of them. With
            // --route-to-owner, each of those clients sends a user's requests to the user's owner silo
            // instead (requests not keyed by a user, such as the room set-up, keep the spread).
            string[] targets = PgridCommands.TargetUrls(parse);
            bool owner = parse.GetValue(routeToOwner);
            bool http2 = parse.GetValue(h2c);
            PresenceGridClient[] clients = [.. targets.Select((_, i) => PgridCommands.Client(parse, [.. targets.Skip(i), .. targets.Take(i)], routeToOwner: owner, h2c: http2))];
            try
            {
                var run = new LoadRun(clients, [.. targets.Select(t => new Uri(t))], parse.GetValue(server)!,
                    parse.GetValue(users), parse.GetValue(roomSize), parse.GetValue(concurrency), parse.GetValue(watchers), parse.GetValue(syncs), owner, http2,
                    parse.GetValue(rate), parse.GetValue(reportEvery), parse.GetValue(syncers));
                return await run.RunAsync(TimeSpan.FromSeconds(parse.GetValue(warmup)), TimeSpan.FromSeconds(parse.GetValue(seconds)), ct);
            }
            finally
            {
                foreach (PresenceGridClient client in clients)
                {
                    client.Dispose();
                }
            }
        });
        return command;
    }

    private sealed class LoadRun(
        PresenceGridClient[] clients, Uri[] metricsBases, string server, int userCount, int roomSize, int concurrency, int watcherCount, bool syncs, bool routeToOwner, bool h2c,
        int rate, int reportEvery, int syncerCount)
    {
        private PresenceGridClient ClientFor(int worker) => clients[worker % clients.Length];

        private readonly LatencyHistogram _deliveryMs = new();

        // The same deliveries, one second at a time: tells a steady tail from a few stalled seconds.
        private readonly LatencyHistogram _deliveryThisSecond = new();
        private readonly List<(double P99, long Count)> _secondP99s = [];
        private readonly LatencyHistogram _requestMs = new();

        // What --report-every prints: the same latencies over the seconds since the last report line, and the syncers'.
        private readonly LatencyHistogram _requestsThisReport = new();
        private readonly LatencyHistogram _deliveriesThisReport = new();
        private readonly LatencyHistogram _syncsThisReport = new();
        private readonly string _runId = Guid.NewGuid().ToString("N")[..6];
        private readonly LoadFailures _failures = new();
        private long _accepted;
        private long _limited;
        private long _syncerSyncs;

        // Watch events not timed: a sent change delivered again in the state already timed, and timer-driven
        // transitions (by the state the silo moved the user to).
        private long _repeats;
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _transitions = new(StringComparer.Ordinal);

        // Open loop: sends that left more than a millisecond after their slot (every worker was still waiting for an answer).
        private long _late;

        // Open loop: the slots run on one clock from the senders' start; the measured part begins at _measuredFrom
        // ticks of it. Slots the warm-up left unsent by then are skipped, not sent in a burst that the measurement would count.
        private long _clockStart;
        private long _measuredFrom;
        private long _skipped;

        private string User(int i) => $"@load{_runId}_{i}:{server}";

        /// <summary>Stopwatch ticks since the senders started.</summary>
        private long Elapsed() => Stopwatch.GetTimestamp() - _clockStart;

        public async Task<int> RunAsync(TimeSpan warmup, TimeSpan duration, CancellationToken cancellationToken)
        {
            Console.WriteLine($"setting up {userCount} users in rooms of {roomSize}...");
            await Parallel.ForEachAsync(Enumerable.Range(0, userCount), new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken }, async (i, ct) =>
                await ClientFor(i).SetMembershipAsync($"!load{_runId}_{i / roomSize}:{server}", User(i), Membership.Join, ct));

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Task[] watches = [.. Enumerable.Range(0, Math.Min(watcherCount, userCount)).Select(i => WatchAsync(ClientFor(i), User(i * Math.Max(1, userCount / Math.Max(1, watcherCount))), stop.Token))];
            // /metrics is read over the same endpoints, so over HTTP/2 too when they are h2c.
            using var http = h2c
                ? new HttpClient { DefaultRequestVersion = System.Net.HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact }
                : new HttpClient();
            Counters start = await CountersAsync(http);
            var total = Stopwatch.StartNew();
            var measured = Stopwatch.StartNew();
            bool warming = warmup > TimeSpan.Zero;
            if (warming)
            {
                Console.WriteLine($"warming up for {warmup.TotalSeconds:F0} s (not counted)...");
            }

            _clockStart = Stopwatch.GetTimestamp();
            Task[] senders = [.. Enumerable.Range(0, concurrency).Select(w => syncs ? SyncLoopAsync(w, warmup + duration, paced: false, stop.Token) : SendAsync(w, warmup + duration, stop.Token))];
            Task[] syncers = [.. Enumerable.Range(0, syncerCount).Select(s => SyncLoopAsync(s, warmup + duration, paced: true, stop.Token))];
            long lastAccepted = 0;
            var report = new ReportMark(reportEvery);
            double lastDeliveries = start.Deliveries;
            while (!Task.WhenAll(senders).IsCompleted)
            {
                await Task.WhenAny(Task.WhenAll(senders), Task.Delay(TimeSpan.FromSeconds(1), cancellationToken));
                if (warming && total.Elapsed >= warmup)
                {
                    // The measured part starts here: counters, samples and the clock begin again.
                    warming = false;
                    start = await CountersAsync(http);
                    measured.Restart();
                    Interlocked.Exchange(ref _accepted, 0);
                    Interlocked.Exchange(ref _limited, 0);
                    _failures.Clear();
                    Interlocked.Exchange(ref _repeats, 0);
                    _transitions.Clear();
                    Interlocked.Exchange(ref _late, 0);
                    Volatile.Write(ref _measuredFrom, Stopwatch.GetTimestamp() - _clockStart);
                    _deliveryMs.Reset();
                    _deliveryThisSecond.Reset();
                    _secondP99s.Clear();
                    _requestMs.Reset();
                    Interlocked.Exchange(ref _syncerSyncs, 0);
                    _requestsThisReport.Reset();
                    _deliveriesThisReport.Reset();
                    _syncsThisReport.Reset();
                    lastAccepted = 0;
                    Console.WriteLine();
                }

                if (!warming)
                {
                    _secondP99s.Add((_deliveryThisSecond.PercentileMs(99), _deliveryThisSecond.Count));
                    _deliveryThisSecond.Reset();
                }

                long accepted = Interlocked.Read(ref _accepted);
                if (!warming && report.IsDue(measured.Elapsed))
                {
                    await ReportAsync(http, report, measured.Elapsed, accepted);
                }

                double deliveries = await DeliveriesAsync(http);
                Console.Write($"\r{total.Elapsed.TotalSeconds,5:F0} s  updates/s {accepted - lastAccepted,8:N0}  deliveries/s {deliveries - lastDeliveries,10:N0}  "
                    + $"delivery p50/p99 {_deliveryMs.PercentileMs(50),6:F1}/{_deliveryMs.PercentileMs(99),6:F1} ms  request p50/p99 {_requestMs.PercentileMs(50),6:F1}/{_requestMs.PercentileMs(99),6:F1} ms  429s {Interlocked.Read(ref _limited)}   ");
                lastAccepted = accepted;
                lastDeliveries = deliveries;
            }

            double elapsed = measured.Elapsed.TotalSeconds;
            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
            await stop.CancelAsync();
            await Task.WhenAll([.. watches, .. syncers]).ContinueWith(_ => { }, TaskScheduler.Default);
            Counters counted = await CountersAsync(http) - start;
            Console.WriteLine();
            long failed = _failures.Count;
            Console.WriteLine($"{(syncs ? "syncs" : "updates")}: {_accepted:N0} accepted in {elapsed:F1} s = {_accepted / elapsed:N0}/s; refused 429: {_limited:N0}; failed: {failed:N0}");
            if (rate > 0)
            {
                Console.WriteLine($"open loop at {rate:N0}/s: {_late:N0} sends left over 1 ms after their slot ({100.0 * _late / Math.Max(1, _accepted + _limited + failed):F2}%); "
                    + $"{Interlocked.Read(ref _skipped):N0} slots of the warm-up still unsent when the measurement began were skipped");
            }

            Console.WriteLine($"deliveries: {counted.Deliveries:N0} = {counted.Deliveries / elapsed:N0}/s (inbox writes reported by the silo's /metrics); "
                + $"members reached through their rooms: {counted.RoomRecipients:N0} = {counted.RoomRecipients / elapsed:N0}/s");
            Console.WriteLine($"{(syncs ? "GET sync" : "PUT status")} latency: p50 {_requestMs.PercentileMs(50):F2} ms, p99 {_requestMs.PercentileMs(99):F2} ms");
            Console.WriteLine($"change-to-delivery latency (watch streams, each change timed at its first delivery in the state sent): "
                + $"p50 {_deliveryMs.PercentileMs(50):F2} ms, p99 {_deliveryMs.PercentileMs(99):F2} ms ({_deliveryMs.Count:N0} samples)");
            Console.WriteLine($"change-to-delivery tail: p90 {_deliveryMs.PercentileMs(90):F2} ms, p99.9 {_deliveryMs.PercentileMs(99.9):F2} ms, max {_deliveryMs.PercentileMs(100):F2} ms; {SecondsSummary()}");
            Console.WriteLine($"not timed: {TransitionsSummary()}; {Interlocked.Read(ref _repeats):N0} re-deliveries of a change already timed");
            if (syncerCount > 0)
            {
                Console.WriteLine($"syncers: {Interlocked.Read(ref _syncerSyncs):N0} incremental syncs by {syncerCount:N0} users (one a second each)");
            }

            if (counted.SiloCpuSeconds > 0)
            {
                // Throughput per core: what the silos got done for each second of CPU they spent, the
                // figure that compares cluster sizes fairly when silos, database and generator share cores.
                Console.WriteLine($"silo CPU: {counted.SiloCpuSeconds:F1} s over {metricsBases.Length} silo(s) = {counted.SiloCpuSeconds / elapsed:F2} cores; "
                    + $"{_accepted / counted.SiloCpuSeconds:N0} {(syncs ? "syncs" : "updates")} per silo CPU-second");
            }

            if (counted.Transactions > 0)
            {
                Console.WriteLine($"PostgreSQL group commit: {counted.Transactions / elapsed:N0} transactions/s, {(double)counted.Rows / counted.Transactions:F1} rows each, {(double)counted.Transactions / Math.Max(1, _accepted):F3} transactions per update");
            }

            if (metricsBases.Length > 1)
            {
                Console.WriteLine($"cross-silo: {counted.Frames / elapsed:N0} frames/s in {counted.Flushes / elapsed:N0} flushes/s ({(counted.Flushes == 0 ? 0 : (double)counted.Frames / counted.Flushes):F1} frames per flush); "
                    + $"replication messages {counted.Replication / elapsed:N0}/s carrying {(counted.Replication == 0 ? 0 : (double)_accepted * (metricsBases.Length - 1) / counted.Replication):F1} changes each");
                Console.WriteLine(RoutingSummary((long)counted.RemoteCalls, (long)counted.ForwardedCalls));
            }

            if (LoadFailures.RateLimitHint(_limited, _accepted + _limited + failed) is { } hint)
            {
                await Console.Error.WriteLineAsync(hint);
            }

            if (failed > 0)
            {
                await Console.Error.WriteLineAsync($"{failed:N0} {(syncs ? "syncs" : "updates")} failed{(_accepted == 0 ? " and none was accepted" : string.Empty)}, by errcode:");
                foreach (string line in _failures.Describe())
                {
                    await Console.Error.WriteLineAsync(line);
                }
            }

            return failed == 0 ? 0 : 1;
        }

        private string TransitionsSummary()
        {
            KeyValuePair<string, long>[] counts = [.. _transitions.OrderBy(t => t.Key, StringComparer.Ordinal)];
            string states = counts.Length == 0 ? string.Empty : $": {string.Join(", ", counts.Select(t => $"to {t.Key} {t.Value:N0}"))}";
            return $"{counts.Sum(t => t.Value):N0} timer-driven transitions (sync_online_timeout, idle_timeout{states})";
        }

        /// <summary>How the p99 of each measured second is spread: a steady tail, or a few seconds that stalled.</summary>
        private string SecondsSummary()
        {
            double[] p99s = [.. _secondP99s.Where(s => s.Count > 0).Select(s => s.P99).Order()];
            if (p99s.Length == 0)
            {
                return "no per-second figures";
            }

            string worst = string.Join(", ", p99s.Reverse().Take(3).Select(p => p.ToString("F1", CultureInfo.InvariantCulture)));
            return $"p99 of each second: median {p99s[p99s.Length / 2]:F2} ms, worst {worst} ms, {p99s.Count(p => p > 10):N0} of {p99s.Length} seconds over 10 ms";
        }

        private async Task<Counters> CountersAsync(HttpClient http) => new(
            await DeliveriesAsync(http),
            await MetricAsync(http, "presencegrid_transport_frames_sent_total"),
            await MetricAsync(http, "presencegrid_transport_flushes_total"),
            await MetricAsync(http, SiloMetricNames.ReplicationMessages),
            await MetricAsync(http, SiloMetricNames.RoomRecipients),
            await MetricAsync(http, "presencegrid_postgres_state_transactions_total"),
            await MetricAsync(http, "presencegrid_postgres_state_rows_total"),
            await MetricAsync(http, SiloMetricNames.RemoteUserCalls),
            await MetricAsync(http, SiloMetricNames.ForwardedMessages),
            await MetricAsync(http, SiloMetricNames.CpuSeconds, everySeries: true));

        private async Task SendAsync(int worker, TimeSpan duration, CancellationToken cancellationToken)
        {
            var random = new Random(worker);
            long durationTicks = (long)(duration.TotalSeconds * Stopwatch.Frequency);

            // Open loop: worker w owns the slots w, w + C, w + 2C, ... of a clock ticking rate times a second
            // (slot n is due n / rate seconds after the start, computed from n so that no rounding adds up).
            long n = worker;
            long SlotTicks(long slotIndex) => slotIndex * Stopwatch.Frequency / rate;

            // A closed loop stops at the end of the run; an open loop stops after its last slot before the end, sending the
            // slots that fell due before it even when they are late (so a slow start costs lateness, not sends).
            while ((rate > 0 || Elapsed() < durationTicks) && !cancellationToken.IsCancellationRequested)
            {
                if (rate > 0)
                {
                    long measuredFrom = Volatile.Read(ref _measuredFrom);
                    if (SlotTicks(n) < measuredFrom)
                    {
                        long behind = ((measuredFrom * rate / Stopwatch.Frequency) - n + concurrency) / concurrency;
                        n += behind * concurrency;
                        Interlocked.Add(ref _skipped, behind);
                    }

                    long slot = SlotTicks(n);
                    if (slot >= durationTicks)
                    {
                        return;
                    }

                    long wait = slot - Elapsed();
                    if (wait > 0)
                    {
                        try
                        {
                            await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency), cancellationToken);
                        }
                        catch (OperationCanceledException)
                        {
                            return;
                        }
                    }
                    else if (-wait > Stopwatch.Frequency / 1000)
                    {
                        Interlocked.Increment(ref _late);
                    }

                    n += concurrency;
                }

                string user = User(random.Next(userCount));
                long start = Stopwatch.GetTimestamp();
                try
                {
                    PresenceState presence = random.Next(2) == 0 ? PresenceState.Online : PresenceState.Unavailable;
                    await ClientFor(worker).SetPresenceAsync(user, presence, LoadChanges.StatusFor(DateTime.UtcNow.Ticks, presence), cancellationToken: cancellationToken);
                    Interlocked.Increment(ref _accepted);
                    TimeSpan latency = Stopwatch.GetElapsedTime(start);
                    _requestMs.Record(latency);
                    _requestsThisReport.Record(latency);
                }
                catch (PresenceGridRateLimitedException)
                {
                    Interlocked.Increment(ref _limited);
                }
                catch (PresenceGridApiException exception)
                {
                    _failures.Add(exception);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }

        /// <summary>
        /// One user per worker syncing incrementally from its last token: as fast as it can (a run of syncs), or, for a
        /// <paramref name="paced"/> syncer beside a run of updates, once a second (counted apart from the updates).
        /// </summary>
        private async Task SyncLoopAsync(int worker, TimeSpan duration, bool paced, CancellationToken cancellationToken)
        {
            string user = User(worker % userCount);
            string? token = null;
            long durationTicks = (long)(duration.TotalSeconds * Stopwatch.Frequency);
            while (Elapsed() < durationTicks && !cancellationToken.IsCancellationRequested)
            {
                long start = Stopwatch.GetTimestamp();
                try
                {
                    SyncBatch batch = await ClientFor(worker).SyncAsync(user, token, cancellationToken: cancellationToken);
                    token = batch.NextBatch;
                    TimeSpan latency = Stopwatch.GetElapsedTime(start);
                    if (paced)
                    {
                        Interlocked.Increment(ref _syncerSyncs);
                        _syncsThisReport.Record(latency);
                        await Task.Delay(TimeSpan.FromSeconds(1) - latency is { Ticks: > 0 } rest ? rest : TimeSpan.Zero, cancellationToken);
                    }
                    else
                    {
                        Interlocked.Increment(ref _accepted);
                        _requestMs.Record(latency);
                        _requestsThisReport.Record(latency);
                    }
                }
                catch (PresenceGridApiException exception)
                {
                    _failures.Add(exception);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }

        /// <summary>
        /// One --report-every line: the seconds since the last line (their updates/s, request, delivery and syncer p99s,
        /// failures) and the silos' managed heap after their last collection and their working set.
        /// </summary>
        private async Task ReportAsync(HttpClient http, ReportMark report, TimeSpan elapsed, long accepted)
        {
            const double MiB = 1024 * 1024;
            double heap = await MetricAsync(http, SiloMetricNames.HeapBytes, everySeries: true);
            double workingSet = await MetricAsync(http, SiloMetricNames.WorkingSetBytes, everySeries: true);
            (double seconds, long updates, long failed) = report.Take(elapsed, accepted, _failures.Count);
            Console.WriteLine($"\r[{elapsed.TotalSeconds,5:F0} s] {(syncs ? "syncs" : "updates")}/s {updates / seconds,8:N0}  "
                + $"{(syncs ? "GET sync" : "PUT")} p99 {_requestsThisReport.PercentileMs(99),6:F2} ms  "
                + $"delivery p99 {_deliveriesThisReport.PercentileMs(99),6:F2} ms ({_deliveriesThisReport.Count:N0})  "
                + $"syncer syncs {Interlocked.Read(ref _syncerSyncs):N0} p99 {_syncsThisReport.PercentileMs(99),6:F2} ms  failed {failed:N0}  "
                + $"silo heap {heap / MiB:N0} MiB  working set {workingSet / MiB:N0} MiB");
            _requestsThisReport.Reset();
            _deliveriesThisReport.Reset();
            _syncsThisReport.Reset();
        }

        private async Task WatchAsync(PresenceGridClient client, string user, CancellationToken cancellationToken)
        {
            var changes = new LoadChanges();
            try
            {
                await foreach (SyncBatch batch in client.WatchAsync(user, null, cancellationToken))
                {
                    long now = DateTime.UtcNow.Ticks;
                    foreach (PresenceEvent ev in batch.Events)
                    {
                        switch (changes.Classify(ev.Sender, ev.Content, out long sent))
                        {
                            case LoadDelivery.First:
                                _deliveryMs.Record(TimeSpan.FromTicks(now - sent));
                                _deliveryThisSecond.Record(TimeSpan.FromTicks(now - sent));
                                _deliveriesThisReport.Record(TimeSpan.FromTicks(now - sent));
                                break;
                            case LoadDelivery.Repeat:
                                Interlocked.Increment(ref _repeats);
                                break;
                            case LoadDelivery.TimerTransition:
                                _transitions.AddOrUpdate(ev.Content.Presence.Value, 1, static (_, count) => count + 1);
                                break;
                        }
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        }

        private Task<double> DeliveriesAsync(HttpClient http) => MetricAsync(http, SiloMetricNames.Deliveries);

        /// <summary>
        /// How the requests were routed, from the silos' counters: a status update that reaches a silo other than its user's
        /// owner costs one grain call to another silo, so for updates, requests minus those calls reached their owner.
        /// </summary>
        private string RoutingSummary(long remote, long forwarded)
        {
            string mode = routeToOwner
                ? $"each user's owner silo (SDK owner routing{(clients.All(c => c.RoutesToOwner) ? string.Empty : ": OFF in some client")})"
                : $"worker i -> silo i mod {metricsBases.Length}";
            string owners = syncs || _accepted == 0
                ? string.Empty
                : $"; updates that reached their owner silo: {Math.Max(0, _accepted - remote):N0} of {_accepted:N0} ({100.0 * Math.Max(0, _accepted - remote) / _accepted:F1}%)";
            return $"routing: {mode}; grain calls sent to another silo: {remote:N0} ({(_accepted == 0 ? 0 : (double)remote / _accepted):F3} per request), "
                + $"forwarded again: {forwarded:N0}{owners}";
        }

        /// <summary>
        /// A counter summed over every silo's <c>/metrics</c>: its unlabelled series, or with
        /// <paramref name="everySeries"/> all of its series (user and system CPU time, say).
        /// </summary>
        private async Task<double> MetricAsync(HttpClient http, string name, bool everySeries = false)
        {
            double sum = 0;
            foreach (Uri silo in metricsBases)
            {
                try
                {
                    sum += SiloMetricNames.Read(await http.GetStringAsync(new Uri(silo, "/metrics")), name, everySeries);
                }
                catch (HttpRequestException)
                {
                }
            }

            return sum;
        }
    }

    /// <summary>When the next --report-every line is due, and the totals at the last one (so a line reports its own seconds).</summary>
    private sealed class ReportMark(int every)
    {
        private TimeSpan _last;
        private long _accepted;
        private long _failed;

        public bool IsDue(TimeSpan elapsed) => every > 0 && elapsed - _last >= TimeSpan.FromSeconds(every);

        /// <summary>The seconds, updates and failures since the last line; marks this one.</summary>
        public (double Seconds, long Updates, long Failed) Take(TimeSpan elapsed, long accepted, long failed)
        {
            (double Seconds, long Updates, long Failed) since = ((elapsed - _last).TotalSeconds, accepted - _accepted, failed - _failed);
            (_last, _accepted, _failed) = (elapsed, accepted, failed);
            return since;
        }
    }

    /// <summary>The silos' counters that a run reports, summed over every silo; differences give a run's share.</summary>
    private sealed record Counters(
        double Deliveries, double Frames, double Flushes, double Replication, double RoomRecipients, double Transactions, double Rows, double RemoteCalls, double ForwardedCalls, double SiloCpuSeconds)
    {
        public static Counters operator -(Counters end, Counters start) => new(
            end.Deliveries - start.Deliveries,
            end.Frames - start.Frames,
            end.Flushes - start.Flushes,
            end.Replication - start.Replication,
            end.RoomRecipients - start.RoomRecipients,
            end.Transactions - start.Transactions,
            end.Rows - start.Rows,
            end.RemoteCalls - start.RemoteCalls,
            end.ForwardedCalls - start.ForwardedCalls,
            end.SiloCpuSeconds - start.SiloCpuSeconds);
    }
}
