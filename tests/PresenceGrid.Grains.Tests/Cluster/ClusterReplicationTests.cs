using Orleans.TestingHost;
using PresenceGrid.Fanout;
using PresenceGrid.Hosting;
using PresenceGrid.Matrix;
using PresenceGrid.Placement;
using PresenceGrid.Replication;
using PresenceGrid.Sync;
using PresenceGrid.Testing;

namespace PresenceGrid.Grains.Tests;

/// <summary>Replication between the silos of an in-process cluster: one ordered, batched stream per peer silo.</summary>
public sealed class ClusterReplicationTests
{
    private static PresenceService Presence(InProcessSiloHandle silo) => PresenceCluster.Presence(silo);

    private static PresenceReplication Replication(InProcessSiloHandle silo) => silo.ServiceProvider.GetRequiredService<PresenceReplication>();

    private static PresenceFanout Fanout(InProcessSiloHandle silo) => silo.ServiceProvider.GetRequiredService<PresenceFanout>();

    /// <summary>Users whose grains the silo owns (their changes are fanned out and replicated from there).</summary>
    private static string[] OwnedBy(InProcessSiloHandle silo, string prefix, int count)
    {
        UserOwners owners = silo.ServiceProvider.GetRequiredService<UserOwners>();
        return [.. Enumerable.Range(0, 1000).Select(i => $"@{prefix}{i}:test").Where(owners.IsLocal).Take(count)];
    }

    /// <summary>Syncs incrementally (long-polling briefly) until <paramref name="done"/> holds for the events gathered so far; returns them and the next token.</summary>
    private static async Task<(Dictionary<string, UserPresenceState> Seen, string NextBatch)> SyncUntil(InProcessSiloHandle silo, string user, string since, Func<Dictionary<string, UserPresenceState>, bool> done, string what)
    {
        var seen = new Dictionary<string, UserPresenceState>(StringComparer.Ordinal);
        await Eventually.TrueAsync(
            async () =>
            {
                PresenceSyncResult result = await Presence(silo).SyncAsync(user, since, timeout: TimeSpan.FromMilliseconds(50));
                since = result.NextBatch;
                foreach (UserPresenceState state in result.Events)
                {
                    seen[state.UserId.ToString()] = state;
                }

                return done(seen);
            },
            $"{what} (on {silo.Name})");
        return (seen, since);
    }

    [Fact]
    public async Task ABurstOfChangesOnOneSilo_ReachesASyncOnAnother_InFarFewerMessagesThanChanges_WithTheLatestStateOfEachUser()
    {
        await using InProcessTestCluster cluster = await PresenceCluster.DeployAsync(2);
        List<InProcessSiloHandle> silos = [.. cluster.GetActiveSilos()];
        (InProcessSiloHandle a, InProcessSiloHandle b) = (silos[0], silos[1]);
        string[] writers = OwnedBy(a, "burst", 40);
        const string Reader = "@reader:test";
        foreach (string user in writers.Append(Reader))
        {
            await Presence(a).SetMembershipAsync("!burst:test", user, "join");
        }

        // The stream from a to b is warm (a first change has reached b) before the burst.
        string token = (await Presence(b).SyncAsync(Reader)).NextBatch;
        await Presence(a).SetPresenceAsync(writers[0], new PresenceStatusRequest(PresenceState.Unavailable, "warm"));
        token = (await SyncUntil(b, Reader, token, s => s.ContainsKey(writers[0]), "the first change")).NextBatch;
        long messagesBefore = Replication(a).MessagesSent;

        // 40 writers, 10 changes each, all fanned out on silo a.
        const int Rounds = 10;
        await Task.WhenAll(writers.Select(async user =>
        {
            for (int round = 1; round <= Rounds; round++)
            {
                await Presence(a).SetPresenceAsync(user, new PresenceStatusRequest(PresenceState.Online, $"{user} {round}"));
            }
        }));

        (Dictionary<string, UserPresenceState> seen, _) = await SyncUntil(
            b, Reader, token, s => writers.All(w => s.GetValueOrDefault(w)?.StatusMsg == $"{w} {Rounds}"), "every writer's last change");
        Assert.All(writers, w => Assert.Equal(PresenceState.Online, seen[w].State));

        int changes = writers.Length * Rounds;
        long messages = Replication(a).MessagesSent - messagesBefore;
        Assert.True(messages * 4 <= changes, $"{changes} changes took {messages} replication messages");
        Assert.Equal(0, Replication(a).ItemsDropped);
    }

    [Fact]
    public async Task TheMirroredFlag_TravelsWithAMirroredState_ToEverySilosUserTable_AndAGridChangeClearsIt()
    {
        await using InProcessTestCluster cluster = await PresenceCluster.DeployAsync(2);
        List<InProcessSiloHandle> silos = [.. cluster.GetActiveSilos()];
        (InProcessSiloHandle a, InProcessSiloHandle b) = (silos[0], silos[1]);
        string user = OwnedBy(a, "mirrored", 1)[0];
        UserId userId = UserId.Parse(user);

        await MirrorThroughAsync(b, silos, new UserPresenceState(userId, PresenceState.Online, 1, 1, 1, "from synapse", true));

        await Presence(b).SetPresenceAsync(user, new PresenceStatusRequest(PresenceState.Unavailable, "grid"));
        await Eventually.TrueAsync(
            () => silos.All(s => Fanout(s).LatestState(userId).StatusMsg == "grid" && !IsMarkedMirrored(s, user)),
            "the flag cleared on both silos");
    }

    [Fact]
    public async Task AMirroredUserHandedBackToTheGrid_WithoutANotifiedChange_IsNoLongerMarkedMirrored_OnAnySilo()
    {
        await using InProcessTestCluster cluster = await PresenceCluster.DeployAsync(2);
        List<InProcessSiloHandle> silos = [.. cluster.GetActiveSilos()];
        (InProcessSiloHandle a, InProcessSiloHandle b) = (silos[0], silos[1]);
        string user = OwnedBy(a, "handed", 1)[0];
        UserId userId = UserId.Parse(user);
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var mirrored = new UserPresenceState(userId, PresenceState.Online, now, now, now, "from synapse", true);

        await MirrorThroughAsync(b, silos, mirrored);

        // A device starts syncing: the grid's timers run for the user again, but readers see nothing new (no notify).
        await Presence(b).SetSyncingAsync(user, "d1", start: true);
        await Eventually.TrueAsync(() => silos.All(s => !IsMarkedMirrored(s, user)), "the flag cleared on both silos");
        foreach (InProcessSiloHandle silo in silos)
        {
            Assert.Equal(mirrored, Fanout(silo).LatestState(userId));
        }
    }

    private static UserTable Table(InProcessSiloHandle silo) => silo.ServiceProvider.GetRequiredService<UserTable>();

    private static bool IsMarkedMirrored(InProcessSiloHandle silo, string user) => Table(silo)[Table(silo).InternIndex(user)].Mirrored;

    /// <summary>Mirrors <paramref name="state"/> through <paramref name="entry"/> and waits until every silo has it, marked mirrored.</summary>
    private static async Task MirrorThroughAsync(InProcessSiloHandle entry, List<InProcessSiloHandle> silos, UserPresenceState state)
    {
        string user = state.UserId.ToString();
        await Presence(entry).MirrorStatesAsync([state]);
        await Eventually.TrueAsync(
            () => silos.All(s => IsMarkedMirrored(s, user) && Fanout(s).LatestState(state.UserId).StatusMsg == state.StatusMsg),
            "the mirrored flag on every silo");
    }

    [Fact]
    public async Task APeersMessages_ArrivingOutOfOrder_AreAppliedInTheirOrder_AndACopyIsNotAppliedAgain()
    {
        await using InProcessTestCluster cluster = await PresenceCluster.DeployAsync(2);
        InProcessSiloHandle b = cluster.GetActiveSilos().Last();
        SiloAddress sender = SiloAddress.New(System.Net.IPAddress.Loopback, 11999, 1); // not (yet) in b's membership view
        UserId user = UserId.Parse("@ordered:test");
        ReplicaBatch Message(long sequence, string status) =>
            new(sender, sequence, [ReplicaItem.ForState(new UserPresenceState(user, PresenceState.Online, 0, 0, 0, status, false))]);
        long before = Replication(b).StatesReceived;

        Assert.Equal(ReplicaReceipt.Held, Replication(b).OnBatch(Message(2, "second")));
        Assert.Equal(ReplicaReceipt.Applied, Replication(b).OnBatch(Message(1, "first")));
        Assert.Equal(ReplicaReceipt.Duplicate, Replication(b).OnBatch(Message(2, "second")));
        Assert.Equal(ReplicaReceipt.Duplicate, Replication(b).OnBatch(Message(1, "first")));

        await Fanout(b).DrainAsync();
        Assert.Equal("second", Fanout(b).LatestState(user).StatusMsg);
        Assert.Equal(before + 2, Replication(b).StatesReceived);
    }

    [Fact]
    public async Task AnInviteOrAKnock_TakenBySiloA_ReachesAJoinedMemberSyncingOnSiloB()
    {
        await using InProcessTestCluster cluster = await PresenceCluster.DeployAsync(2);
        const string Room = "!invites:test";
        const string Member = "@member:test";
        await Presence(cluster.GetActiveSilos().First()).SetMembershipAsync(Room, Member, "join");

        // The room grain's silo delivers locally; the member syncs on the other one, which only replication reaches.
        IManagementGrain management = cluster.Client.GetGrain<IManagementGrain>(0);
        DetailedGrainStatistic[] statistics = await management.GetDetailedGrainStatistics(null, [.. cluster.GetActiveSilos().Select(s => s.SiloAddress)]);
        SiloAddress roomSilo = statistics.Single(s => s.GrainId.Type.Equals(RoomGrain.GrainType)).SiloAddress;
        InProcessSiloHandle a = cluster.GetActiveSilos().Single(s => s.SiloAddress.Equals(roomSilo));
        InProcessSiloHandle b = cluster.GetActiveSilos().Single(s => !s.SiloAddress.Equals(roomSilo));

        foreach ((string user, string membership) in new[] { ("@invitee:test", "invite"), ("@knocker:test", "knock") })
        {
            await Presence(a).SetPresenceAsync(user, new PresenceStatusRequest(PresenceState.Online, $"{membership} me"));
            await Eventually.TrueAsync(() => Fanout(b).LatestState(UserId.Parse(user)).StatusMsg == $"{membership} me", $"silo b knows {user}");
            string token = (await Presence(b).SyncAsync(Member)).NextBatch;

            await Presence(a).SetMembershipAsync(Room, user, membership);

            (Dictionary<string, UserPresenceState> seen, _) = await SyncUntil(b, Member, token, s => s.ContainsKey(user), $"the {membership} of {user}");
            Assert.Equal($"{membership} me", seen[user].StatusMsg);
        }
    }

    [Fact]
    public async Task AKilledPeersQueue_StaysBoundedAndIsDropped_WhileTheSurvivorsKeepReplicating()
    {
        await using InProcessTestCluster cluster = await PresenceCluster.DeployAsync(3);
        List<InProcessSiloHandle> silos = [.. cluster.GetActiveSilos()];
        (InProcessSiloHandle a, InProcessSiloHandle b, InProcessSiloHandle victim) = (silos[0], silos[1], silos[2]);
        string[] writers = OwnedBy(a, "kill", 5);
        const string Reader = "@survivor:test";
        foreach (string user in writers.Append(Reader))
        {
            await Presence(a).SetMembershipAsync("!kill:test", user, "join");
        }

        await Fanout(a).DrainAsync();
        await Eventually.TrueAsync(() => Replication(a).Outboxes.Count == 2, "streams to both peers");
        ReplicaOutbox toVictim = Replication(a).Outboxes[victim.SiloAddress];

        // b receives the streams of a and of the victim before the kill.
        string victims = OwnedBy(victim, "victims", 1)[0];
        await Presence(victim).SetPresenceAsync(victims, new PresenceStatusRequest(PresenceState.Online, "before the kill"));
        await Presence(a).SetPresenceAsync(writers[0], new PresenceStatusRequest(PresenceState.Online, "before the kill"));
        await Eventually.TrueAsync(
            () => new[] { victims, writers[0] }.All(u => Fanout(b).LatestState(UserId.Parse(u)).StatusMsg == "before the kill"), "both changes on b");
        Assert.Equal(2, Replication(b).Sequencer.SenderCount);

        await cluster.KillSiloAsync(victim);

        // Until Orleans declares the victim dead its queue takes every change, coalesced per user: bounded by the users.
        for (int round = 0; round < 20; round++)
        {
            foreach (string user in writers)
            {
                await Presence(a).SetPresenceAsync(user, new PresenceStatusRequest(PresenceState.Online, $"round {round}"));
            }
        }

        await Fanout(a).DrainAsync();
        Assert.InRange(toVictim.Count, 0, writers.Length);

        await cluster.WaitForLivenessToStabilizeAsync(didKill: true);
        string token = (await Presence(b).SyncAsync(Reader)).NextBatch;
        await Presence(a).SetPresenceAsync(writers[0], new PresenceStatusRequest(PresenceState.Unavailable, "after the kill"));
        await SyncUntil(b, Reader, token, s => s.GetValueOrDefault(writers[0])?.StatusMsg == "after the kill", "a change after the kill");

        Assert.True(toVictim.IsDropped);
        Assert.Equal(0, toVictim.Count);
        Assert.Equal(b.SiloAddress, Assert.Single(Replication(a).Outboxes.Keys));

        // b forgot the dead victim's stream, and ignores a late message of it.
        Assert.Equal(1, Replication(b).Sequencer.SenderCount);
        Assert.Equal(ReplicaReceipt.Superseded, Replication(b).OnBatch(new ReplicaBatch(victim.SiloAddress, 2, [ReplicaItem.ForFullPresence(UserId.Parse(Reader))])));
        Assert.Equal(1, Replication(b).Sequencer.SenderCount);
    }
}
