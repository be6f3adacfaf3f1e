using Microsoft.Extensions.DependencyInjection;
using PresenceGrid.Hosting;
using PresenceGrid.Matrix;
using PresenceGrid.Testing;

namespace PresenceGrid.Grains.Tests;

/// <summary>Presence across the silos of an in-process cluster: any silo serves any user.</summary>
public sealed class ClusterPresenceTests
{
    private static Task<InProcessTestCluster> DeployAsync(int silos) =>
        new InProcessTestClusterBuilder(silos)
            .ConfigureCluster(o => o.LeaseTime = TimeSpan.FromSeconds(1))
            .ConfigureSilo((_, silo) => silo.AddGrainAssembly(PresenceGrains.Assembly))
            .ConfigureServices((_, services) => services.AddPresenceGrid(o =>
            {
                o.ServerNames.Add("test");
                o.Timings.RatelimitPerSecond = 0;
            }))
            .DeployAsync();

    private static PresenceService Presence(InProcessSiloHandle silo) => silo.Services.GetRequiredService<PresenceService>();

    private static async Task<List<UserPresenceState>> SyncUntil(InProcessSiloHandle silo, string user, Func<List<UserPresenceState>, bool> done, string what)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var events = (await Presence(silo).SyncAsync(user)).Events.ToList();
            if (done(events))
            {
                return events;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{what}: last sync on {silo.Name} gave {string.Join(", ", events.Select(e => $"{e.UserId}={e.State}/{e.StatusMsg}"))}");
            }

            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task Changes_made_through_any_silo_reach_syncs_on_every_silo()
    {
        await using InProcessTestCluster cluster = await DeployAsync(3);
        IReadOnlyList<InProcessSiloHandle> silos = cluster.GetActiveSilos();
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
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        IReadOnlyList<UserPresenceState> delta;
        do
        {
            delta = (await Presence(silos[2]).SyncAsync(users[1], token, timeout: TimeSpan.FromMilliseconds(200))).Events;
        }
        while (delta.Count == 0 && DateTime.UtcNow < deadline);
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
        IReadOnlyList<InProcessSiloHandle> silos = cluster.GetActiveSilos();
        string[] users = [.. Enumerable.Range(0, 20).Select(i => $"@k{i}:test")];
        foreach (string user in users)
        {
            await Presence(silos[0]).SetMembershipAsync("!kill:test", user, "join");
            await Presence(silos[1]).SetPresenceAsync(user, new PresenceStatusRequest(PresenceState.Online, "before " + user));
        }

        InProcessSiloHandle victim = silos[2];
        string moved = users.First(u => victim.HasActivation(new GrainId(Invocation.GrainTypeManifest.GrainInterface<IUserPresenceGrain>.GrainType, u)));
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
