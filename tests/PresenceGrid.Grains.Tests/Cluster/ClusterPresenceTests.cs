using Orleans.Configuration;
using Orleans.TestingHost;
using PresenceGrid.Hosting;
using PresenceGrid.Matrix;
using PresenceGrid.Testing;

namespace PresenceGrid.Grains.Tests;

/// <summary>An in-process Orleans cluster (TestingHost) running presence over one shared durable store.</summary>
internal static class PresenceCluster
{
    /// <param name="silos">How many silos.</param>
    /// <param name="clock">A manual clock for the grid's own timers, shared by every silo (Orleans' stay on real time).</param>
    /// <param name="configure">Presence options on top of the defaults.</param>
    public static async Task<InProcessTestCluster> DeployAsync(int silos, FakeTimeProvider? clock = null, Action<PresenceOptions>? configure = null)
    {
        var store = new SharedGrainStore();
        InProcessTestCluster cluster = new InProcessTestClusterBuilder((short)silos)
            .ConfigureSilo((_, silo) =>
            {
                PresenceTestSilo.AddTestPresence(silo, clock, store, configure);
                silo.Configure<ClusterMembershipOptions>(o =>
                {
                    o.ProbeTimeout = TimeSpan.FromSeconds(1);
                    o.NumMissedProbesLimit = 2;
                    o.TableRefreshTimeout = TimeSpan.FromSeconds(2);
                });
            })
            .Build();
        await cluster.DeployAsync();
        return cluster;
    }

    public static PresenceService Presence(InProcessSiloHandle silo) => silo.ServiceProvider.GetRequiredService<PresenceService>();

    /// <summary>Every activation of a user grain in the cluster, from each active silo's own catalog (Orleans' management grain).</summary>
    public static async Task<List<(string User, SiloAddress Silo)>> UserActivationsAsync(InProcessTestCluster cluster)
    {
        IManagementGrain management = cluster.Client.GetGrain<IManagementGrain>(0);
        SiloAddress[] hosts = [.. cluster.GetActiveSilos().Select(s => s.SiloAddress)];
        DetailedGrainStatistic[] statistics = await management.GetDetailedGrainStatistics(null, hosts);
        return [.. statistics.Where(s => s.GrainId.Type.Equals(UserPresenceGrain.GrainType)).Select(s => (s.GrainId.Key.ToString()!, s.SiloAddress))];
    }
}

/// <summary>Presence across the silos of an in-process cluster: any silo serves any user.</summary>
public sealed class ClusterPresenceTests
{
    private static Task<InProcessTestCluster> DeployAsync(int silos) => PresenceCluster.DeployAsync(silos);

    private static PresenceService Presence(InProcessSiloHandle silo) => PresenceCluster.Presence(silo);

    /// <summary>Syncs (from <paramref name="since"/>, long-polling briefly) until <paramref name="done"/> holds for the events.</summary>
    private static async Task<List<UserPresenceState>> SyncUntil(InProcessSiloHandle silo, string user, Func<List<UserPresenceState>, bool> done, string what, string? since = null)
    {
        List<UserPresenceState> events = [];
        TimeSpan poll = since is null ? TimeSpan.Zero : TimeSpan.FromMilliseconds(200);
        await Eventually.TrueAsync(
            async () =>
            {
                events = [.. (await Presence(silo).SyncAsync(user, since, timeout: poll)).Events];
                return done(events);
            },
            $"{what} (on {silo.Name})");
        return events;
    }

    [Fact]
    public async Task Changes_made_through_any_silo_reach_syncs_on_every_silo()
    {
        await using InProcessTestCluster cluster = await DeployAsync(3);
        List<InProcessSiloHandle> silos = [.. cluster.GetActiveSilos()];
        string[] users = [.. Enumerable.Range(0, 12).Select(i => $"@u{i}:test")];
        foreach (string user in users)
        {
            await Presence(silos[0]).SetMembershipAsync("!room:test", user, "join");
        }

        for (int i = 0; i < users.Length; i++)
        {
            await Presence(silos[i % 3]).SetPresenceAsync(users[i], new PresenceStatusRequest(PresenceState.Online, $"hi {i}"));
        }

        foreach (InProcessSiloHandle silo in silos)
        {
            List<UserPresenceState> events = await SyncUntil(silo, users[5], e => e.Count(s => s.State == PresenceState.Online) == users.Length, $"all online on {silo.Name}");
            Assert.Contains(events, e => e.UserId.ToString() == users[7] && e.StatusMsg == "hi 7");
        }

        // An incremental sync on one silo sees a change made through another, exactly once.
        string token = (await Presence(silos[2]).SyncAsync(users[1])).NextBatch;
        await Presence(silos[0]).SetPresenceAsync(users[3], new PresenceStatusRequest(PresenceState.Unavailable, "away"));
        List<UserPresenceState> delta = await SyncUntil(silos[2], users[1], e => e.Count > 0, "the change made on another silo", since: token);
        UserPresenceState changed = Assert.Single(delta);
        Assert.Equal(PresenceState.Unavailable, changed.State);
        Assert.Equal("away", changed.StatusMsg);

        // A token from one silo is not an error on another: it gets a full snapshot.
        var other = await Presence(silos[0]).SyncAsync(users[1], token);
        Assert.Equal(users.Length, other.Events.Count);

        // Room membership is known on every silo (visibility checks pass anywhere).
        foreach (InProcessSiloHandle silo in silos)
        {
            Assert.Equal("away", (await Presence(silo).GetPresenceAsync(users[3], users[9])).StatusMsg);
        }
    }

    [Fact]
    public async Task After_a_silo_is_killed_its_users_keep_their_state_and_a_new_silo_rebuilds_the_view_from_storage()
    {
        await using InProcessTestCluster cluster = await DeployAsync(3);
        List<InProcessSiloHandle> silos = [.. cluster.GetActiveSilos()];
        string[] users = [.. Enumerable.Range(0, 20).Select(i => $"@k{i}:test")];
        foreach (string user in users)
        {
            await Presence(silos[0]).SetMembershipAsync("!kill:test", user, "join");
            await Presence(silos[1]).SetPresenceAsync(user, new PresenceStatusRequest(PresenceState.Online, "before " + user));
        }

        InProcessSiloHandle victim = silos[2];
        var activations = await PresenceCluster.UserActivationsAsync(cluster);
        string moved = activations.First(a => a.Silo.Equals(victim.SiloAddress)).User;
        await cluster.KillSiloAsync(victim);
        await cluster.WaitForLivenessToStabilizeAsync();

        // The moved user re-activates elsewhere from its stored state, and changes keep flowing.
        Assert.Equal("before " + moved, (await Presence(silos[0]).GetPresenceAsync(moved, moved)).StatusMsg);
        await Presence(silos[1]).SetPresenceAsync(moved, new PresenceStatusRequest(PresenceState.Unavailable, "after"));
        await SyncUntil(silos[0], users[0], e => e.Any(s => s.UserId.ToString() == moved && s.StatusMsg == "after"), "the moved user's change");

        // A silo that joins now rebuilds rooms and stored presence from storage.
        InProcessSiloHandle fresh = await cluster.StartAdditionalSiloAsync();
        await cluster.WaitForLivenessToStabilizeAsync();
        List<UserPresenceState> view = await SyncUntil(fresh, users[4], e => e.Count == users.Length, "the new silo's snapshot");
        Assert.Contains(view, s => s.UserId.ToString() == moved && s.StatusMsg == "after");
        Assert.Contains(view, s => s.UserId.ToString() == users[9] && s.StatusMsg == "before " + users[9]);
    }
}

/// <summary>ElasticChaos for presence: silos start, stop and die while clients change presence and memberships.</summary>
public sealed class ClusterPresenceChaosTests
{
    [Fact]
    public async Task Under_chaos_every_grain_keeps_one_activation_and_every_acknowledged_fact_is_durable()
    {
        await using InProcessTestCluster cluster = await PresenceCluster.DeployAsync(3);
        string[] users = [.. Enumerable.Range(0, 40).Select(i => $"@c{i}:test")];
        var statuses = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        var joined = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();
        using var stop = new CancellationTokenSource();

        async Task Load(int worker)
        {
            int n = 0;
            while (!stop.IsCancellationRequested)
            {
                List<InProcessSiloHandle> live = [.. cluster.GetActiveSilos()];
                string user = users[(worker + (n * 4)) % users.Length];   // each user has one writer, so its numbers only grow
                n++;
                if (live.Count == 0)
                {
                    await Task.Delay(5);
                    continue;
                }

                InProcessSiloHandle target = live[n % live.Count];
                try
                {
                    // Inside the try: the chaos may stop this silo (and dispose its services) at any moment.
                    PresenceService presence = target.ServiceProvider.GetRequiredService<PresenceService>();
                    if (n % 5 == 0)
                    {
                        string room = $"!chaos{n % 7}:test";
                        await presence.SetMembershipAsync(room, user, "join").WaitAsync(TimeSpan.FromSeconds(5));
                        joined[room + "|" + user] = user;
                    }
                    else
                    {
                        await presence.SetPresenceAsync(user, new PresenceStatusRequest(PresenceState.Online, n.ToString(System.Globalization.CultureInfo.InvariantCulture))).WaitAsync(TimeSpan.FromSeconds(5));
                        statuses.AddOrUpdate(user, n, (_, old) => Math.Max(old, n));
                    }
                }
                catch (Exception exception) when (exception is OrleansException or TimeoutException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
                {
                    // While silos come and go the outcome of a call may be unknown; only acknowledged facts count.
                }
            }
        }

        Task[] load = [.. Enumerable.Range(0, 4).Select(w => Task.Run(() => Load(w)))];
        await RunChaosAsync(cluster, new Random(11), rounds: 6);
        stop.Cancel();
        await Task.WhenAll(load);
        Assert.NotEmpty(statuses);
        Assert.NotEmpty(joined);

        // At most one activation per user grain, cluster-wide.
        await cluster.WaitForLivenessToStabilizeAsync(didKill: true);
        foreach (var group in (await PresenceCluster.UserActivationsAsync(cluster)).GroupBy(a => a.User))
        {
            Assert.True(group.Count() <= 1, $"{group.Key} has {group.Count()} activations");
        }

        // Every acknowledged status is stored (or newer), and served.
        PresenceService any = PresenceCluster.Presence(cluster.GetActiveSilos().First());
        foreach ((string user, int last) in statuses)
        {
            UserPresenceState state = await any.GetPresenceAsync(user, user);
            Assert.True(int.Parse(state.StatusMsg!, System.Globalization.CultureInfo.InvariantCulture) >= last, $"{user}: {state.StatusMsg} < acknowledged {last}");
        }

        // Every acknowledged membership is in its room's stored record, and every silo knows it.
        foreach (string key in joined.Keys)
        {
            string[] parts = key.Split('|');
            IReadOnlyDictionary<string, string> members = await cluster.Client.GetGrain<IRoomGrain>(parts[0]).GetMembers();
            Assert.Equal("join", members.GetValueOrDefault(parts[1]));
            foreach (InProcessSiloHandle silo in cluster.GetActiveSilos())
            {
                Assert.Contains(silo.ServiceProvider.GetRequiredService<Fanout.RoomMembershipIndex>().GetRooms(UserId.Parse(parts[1])), r => r.Id == parts[0]);
            }
        }
    }

    /// <summary>Kills, stops and adds secondary silos in turn (the primary holds the test cluster's membership), keeping two to four up.</summary>
    private static async Task RunChaosAsync(InProcessTestCluster cluster, Random random, int rounds)
    {
        for (int round = 0; round < rounds; round++)
        {
            List<InProcessSiloHandle> secondaries = [.. cluster.GetActiveSilos().Skip(1)];
            int action = random.Next(3);
            if (secondaries.Count > 1 && action == 0)
            {
                await cluster.KillSiloAsync(secondaries[random.Next(secondaries.Count)]);
            }
            else if (secondaries.Count > 1 && action == 1)
            {
                await cluster.StopSiloAsync(secondaries[random.Next(secondaries.Count)]);
            }
            else if (secondaries.Count < 3)
            {
                await cluster.StartAdditionalSiloAsync();
            }

            await cluster.WaitForLivenessToStabilizeAsync(didKill: action == 0);
        }
    }
}
