using Orleans.Storage;
using Orleans.TestingHost;
using PresenceGrid.Fanout;
using PresenceGrid.Matrix;
using PresenceGrid.Placement;
using PresenceGrid.Sync;
using PresenceGrid.Testing;

namespace PresenceGrid.Grains.Tests;

/// <summary>
/// The batched ingest without a grain activation per state (<see cref="MirrorIngest"/>): the owner silo applies and
/// stores a mirrored state itself while the user's grain is not active, hands it to the grain while it is, and the grain
/// activating meanwhile catches up with the direct write.
/// </summary>
public sealed class MirrorIngestTests
{
    private const string U1 = "@user1:test";
    private const string U2 = "@user2:test";

    private static UserPresenceState State(string user, PresenceState state, long lastActive, string? status = null, bool active = false) =>
        new(UserId.Parse(user), state, lastActive, 0, 0, status, active);

    private static async Task<bool> IsActiveAsync(InProcessTestCluster cluster, string user) =>
        (await PresenceCluster.UserActivationsAsync(cluster)).Exists(a => a.User == user);

    [Fact]
    public async Task MirroredState_OfAUserWithoutAnActiveGrain_IsDeliveredAndStored_WithoutActivatingIt()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        await silo.Join("!room:test", U1, U2);
        var (_, token) = await silo.Sync(U2);
        UserPresenceState online = State(U1, PresenceState.Online, silo.NowMs, "from synapse", active: true);

        await silo.Presence.MirrorStatesAsync([online]);

        Assert.False(await IsActiveAsync(silo.Cluster, U1), "the mirrored state activated the user's grain");
        var (events, _) = await silo.Sync(U2, token);
        Assert.Equal(online, Assert.Single(events));
        var (own, _) = await silo.Sync(U1);
        Assert.Contains(online, own);
        StoredPresence stored = await StoredPresence.ReadAsync(silo.Services, U1);
        Assert.True(stored.State.Mirrored);
        Assert.Equal(online, stored.State.ToState(online.UserId));

        // A fresh activation reads the record back, and its first grid change writes over it.
        Assert.Equal(online, await silo.Get(U1));
        await silo.Put(U1, PresenceState.Unavailable, "grid");
        Assert.Equal("unavailable", (await StoredPresence.ReadAsync(silo.Services, U1)).State.State);
    }

    [Fact]
    public async Task MirroredStates_AfterTheGrainWasCollected_AreWrittenDirectly_OverItsRecord()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        await silo.Put(U1, PresenceState.Online, "grid");
        await silo.Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        await Eventually.TrueAsync(async () => !await IsActiveAsync(silo.Cluster, U1), "the grain is collected", TimeSpan.FromSeconds(10));
        UserPresenceState first = State(U1, PresenceState.Unavailable, silo.NowMs, "away");
        UserPresenceState second = State(U1, PresenceState.Online, silo.NowMs + 1, "back", active: true);

        await silo.Presence.MirrorStatesAsync([first]);
        await silo.Presence.MirrorStatesAsync([second]);

        Assert.False(await IsActiveAsync(silo.Cluster, U1));
        Assert.Equal(second, (await StoredPresence.ReadAsync(silo.Services, U1)).State.ToState(second.UserId));
        Assert.Equal(second, await silo.Get(U1));
        await silo.Put(U1, PresenceState.Unavailable, "grid again"); // the grain's ETag is the direct writes' latest
    }

    [Fact]
    public async Task MirroredState_OfAnActiveGrain_GoesThroughIt_AndItsNextWriteSucceeds()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        await silo.Put(U1, PresenceState.Online, "grid");
        UserPresenceState away = State(U1, PresenceState.Unavailable, silo.NowMs, "mirrored");

        await silo.Presence.MirrorStatesAsync([away]);

        Assert.Equal(away, await silo.Grains.GetGrain<IUserPresenceGrain>(U1).GetPresence());
        await silo.Put(U1, PresenceState.Online, "grid again");
        StoredPresence stored = await StoredPresence.ReadAsync(silo.Services, U1);
        Assert.Equal(("online", "grid again", false), (stored.State.State, stored.State.StatusMsg, stored.State.Mirrored));
    }

    [Fact]
    public async Task AnActivationRacingADirectWrite_WaitsForIt_ReadsTheRecordAgain_AndWritesFine()
    {
        var gate = new WriteGate();
        await using var silo = await PresenceTestSilo.StartAsync(store: new SharedGrainStore { Wrap = inner => new GatedStorage(inner, gate) });
        UserTable users = silo.Services.GetRequiredService<UserTable>();
        UserPresenceState online = State(U1, PresenceState.Online, silo.NowMs, "mirrored", active: true);

        // The direct write is held at the storage; the grain activates (Orleans reads the record: none yet) meanwhile.
        gate.Close();
        Task mirroring = silo.Presence.MirrorStatesAsync([online]);
        await gate.Entered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Task<UserPresenceState> reading = silo.Grains.GetGrain<IUserPresenceGrain>(U1).GetPresence();
        await Eventually.TrueAsync(() => users.TryGetIndex(U1, out int index) && users[index].GrainActive, "the grain's activation began");
        Assert.False(mirroring.IsCompleted);
        Assert.False(reading.IsCompleted);

        gate.Open();
        await mirroring;
        Assert.Equal(online, await reading);
        await silo.Put(U1, PresenceState.Unavailable, "grid");
        Assert.Equal("unavailable", (await StoredPresence.ReadAsync(silo.Services, U1)).State.State);
    }

    [Fact]
    public async Task ABatch_IsAppliedOnEachUsersOwner_WithoutActivations_AndVisibleOnEverySilo()
    {
        await using InProcessTestCluster cluster = await PresenceCluster.DeployAsync(3);
        InProcessSiloHandle ingest = cluster.Silos[0];
        UserOwners owners = ingest.ServiceProvider.GetRequiredService<UserOwners>();
        await Eventually.TrueAsync(() => Enumerable.Range(0, 30).Select(i => owners.Owner($"@o{i}:test")).Distinct().Count() == 3, "the ingest silo sees three owners");
        string[] batch = [.. Enumerable.Range(0, 30).Select(i => $"@o{i}:test")];
        Assert.Equal(3, batch.Select(owners.Owner).Distinct().Count());
        const string Watcher = "@watcher:test";
        await PresenceCluster.Presence(ingest).SetMembershipAsync("!all:test", Watcher, "join");
        foreach (string user in batch)
        {
            await PresenceCluster.Presence(ingest).SetMembershipAsync("!all:test", user, "join");
        }

        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        UserPresenceState[] states = [.. batch.Select(u => State(u, PresenceState.Online, now, "mirrored", active: true))];
        await PresenceCluster.Presence(ingest).MirrorStatesAsync(states);

        var activations = await PresenceCluster.UserActivationsAsync(cluster);
        Assert.DoesNotContain(activations, a => batch.Contains(a.User));
        foreach (string user in batch)
        {
            Assert.True((await StoredPresence.ReadAsync(ingest.ServiceProvider, user)).State.Mirrored, user);
        }

        foreach (InProcessSiloHandle silo in cluster.Silos)
        {
            await Eventually.TrueAsync(
                async () =>
                {
                    PresenceSyncResult sync = await PresenceCluster.Presence(silo).SyncAsync(Watcher);
                    return states.All(s => sync.Events.Contains(s));
                },
                $"the watcher's sync on {silo.SiloAddress} shows every mirrored state",
                TimeSpan.FromSeconds(10));
        }
    }

    /// <summary>Holds grain-storage writes while closed.</summary>
    private sealed class WriteGate
    {
        private TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public WriteGate() => _open.SetResult();

        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Opened => Volatile.Read(ref _open).Task;

        public void Close() => Volatile.Write(ref _open, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

        public void Open() => _open.TrySetResult();
    }

    /// <summary>A grain storage whose writes wait at a <see cref="WriteGate"/>.</summary>
    private sealed class GatedStorage(IGrainStorage inner, WriteGate gate) : IGrainStorage
    {
        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ReadStateAsync(stateName, grainId, grainState);

        public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            Task opened = gate.Opened;
            if (!opened.IsCompleted)
            {
                gate.Entered.TrySetResult();
                await opened;
            }

            await inner.WriteStateAsync(stateName, grainId, grainState);
        }

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ClearStateAsync(stateName, grainId, grainState);
    }
}
