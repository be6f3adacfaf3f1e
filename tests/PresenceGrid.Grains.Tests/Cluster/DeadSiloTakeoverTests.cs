using System.Collections.Immutable;
using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.TestingHost;
using PresenceGrid.Fanout;
using PresenceGrid.Hosting;
using PresenceGrid.Matrix;
using PresenceGrid.Placement;
using PresenceGrid.Presence;
using PresenceGrid.Testing;

namespace PresenceGrid.Grains.Tests;

/// <summary>
/// A silo that leaves the cluster takes its users' timers with it (its <see cref="PresenceWakeups"/> and parked devices):
/// the survivors take the users over (<see cref="DeadSiloTakeover"/>), on a manual clock shared by the silos.
/// </summary>
public sealed class DeadSiloTakeoverTests
{
    private const string Room = "!takeover:test";
    private const string Watcher = "@watcher:test";
    private static readonly TimeSpan Grace = new PresenceTimings().TimeoutLoopFirstRun;

    [Fact]
    public async Task Users_syncing_on_a_killed_silo_go_offline_after_the_sync_timeout_and_users_active_on_survivors_are_left_alone()
    {
        await using Setup setup = await Setup.StartAsync();
        long counted = 0;
        object[] survivorMeters = [.. setup.Survivors.Select(s => s.ServiceProvider.GetRequiredService<IMeterFactory>())];
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name == "presencegrid.presence.takeover.users" && survivorMeters.Contains(instrument.Meter.Scope))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref counted, value));
        listener.Start();

        await setup.Cluster.KillSiloAsync(setup.Victim);
        await setup.Cluster.WaitForLivenessToStabilizeAsync(didKill: true);

        await setup.ExpectTimersTakenOverAndTimedOutAsync();
        Assert.Equal(setup.OnVictim.Count, Interlocked.Read(ref counted));
    }

    [Fact]
    public async Task Users_syncing_on_a_gracefully_stopped_silo_go_offline_after_the_sync_timeout()
    {
        await using Setup setup = await Setup.StartAsync();
        await setup.Cluster.StopSiloAsync(setup.Victim);
        await setup.Cluster.WaitForLivenessToStabilizeAsync();

        await setup.ExpectTimersTakenOverAndTimedOutAsync();
    }

    [Fact]
    public async Task A_user_who_reconnects_through_a_survivor_within_the_grace_stays_online_without_a_flap()
    {
        await using Setup setup = await Setup.StartAsync();
        InProcessSiloHandle entry = setup.Survivors[0];
        string token = (await Presence(entry).SyncAsync(Watcher)).NextBatch;
        await setup.Cluster.KillSiloAsync(setup.Victim);
        await setup.Cluster.WaitForLivenessToStabilizeAsync(didKill: true);
        await setup.WaitForTakeoverAsync();

        // Until the grace ends the takeover changes nothing, though the dead devices' sync timeout has passed.
        await setup.AdvanceAsync(TimeSpan.Zero);
        Assert.DoesNotContain((await Presence(entry).SyncAsync(Watcher, token)).Events, s => s.State == PresenceState.Offline);

        // The client of each user of the dead silo syncs again through a survivor before the grace ends.
        foreach (string user in setup.OnVictim)
        {
            await Presence(entry).SetSyncingAsync(user, "d2", start: true);
        }

        await setup.AdvanceAsync(Grace + TimeSpan.FromSeconds(1));

        // Past the grace and the dead device's sync timeout: the users stay online, with no offline in between.
        await Presence(entry).DrainAsync();
        List<UserPresenceState> changes = [.. (await Presence(entry).SyncAsync(Watcher, token)).Events];
        Assert.DoesNotContain(changes, s => s.State == PresenceState.Offline);
        foreach (string user in setup.OnVictim)
        {
            Assert.Equal(PresenceState.Online, (await Presence(entry).GetPresenceAsync(user, user)).State);
        }

        await setup.ExpectOneActivationPerUserAsync();
    }

    [Fact]
    public async Task Mirrored_users_a_killed_silo_held_are_not_woken_on_the_survivors_while_its_grid_users_are()
    {
        await using Setup setup = await Setup.StartAsync(mirroredUsers: 24);
        Assert.NotEmpty(setup.MirroredOnVictim);
        await setup.Cluster.KillSiloAsync(setup.Victim);
        await setup.Cluster.WaitForLivenessToStabilizeAsync(didKill: true);

        // Exactly the grid users the victim held are taken over (and time out); its mirrored users have no grid timers.
        await setup.ExpectTimersTakenOverAndTimedOutAsync();

        // Past the grace and the spread no survivor has activated the victim's mirrored users, and they keep the state
        // the homeserver gave them (it times them out and mirrors that).
        var activations = await PresenceCluster.UserActivationsAsync(setup.Cluster);
        Assert.DoesNotContain(activations, a => setup.MirroredOnVictim.Contains(a.User));
        foreach (InProcessSiloHandle survivor in setup.Survivors)
        {
            Assert.All(setup.MirroredOnVictim, user => Assert.Equal(PresenceState.Online, Fanout(survivor).LatestState(UserId.Parse(user)).State));
        }
    }

    private static PresenceService Presence(InProcessSiloHandle silo) => PresenceCluster.Presence(silo);

    private static PresenceFanout Fanout(InProcessSiloHandle silo) => silo.ServiceProvider.GetRequiredService<PresenceFanout>();

    /// <summary>
    /// Three silos on one manual clock; users in one room each sync (a device left open) through some silo, so their
    /// grains sit on their owners; a watcher in the room; the victim is a secondary silo that holds some of the users.
    /// Optionally, users outside the room whose online state is mirrored from the homeserver (applied on their owners, no grain activated).
    /// </summary>
    private sealed class Setup : IAsyncDisposable
    {
        private Setup(InProcessTestCluster cluster, FakeTimeProvider clock, InProcessSiloHandle victim, List<string> onVictim, List<string> onSurvivors, List<string> mirroredOnVictim)
        {
            Cluster = cluster;
            Clock = clock;
            Victim = victim;
            OnVictim = onVictim;
            OnSurvivors = onSurvivors;
            MirroredOnVictim = mirroredOnVictim;
            Survivors = [.. cluster.GetActiveSilos().Where(s => s != victim)];
        }

        public InProcessTestCluster Cluster { get; }

        public FakeTimeProvider Clock { get; }

        public InProcessSiloHandle Victim { get; }

        public List<InProcessSiloHandle> Survivors { get; }

        /// <summary>Users whose grain is on the victim.</summary>
        public List<string> OnVictim { get; }

        /// <summary>Users whose grain is on a survivor.</summary>
        public List<string> OnSurvivors { get; }

        /// <summary>Mirrored users the victim owns.</summary>
        public List<string> MirroredOnVictim { get; }

        public static async Task<Setup> StartAsync(int mirroredUsers = 0)
        {
            var clock = new FakeTimeProvider(TestClock.Start);
            // A granularity longer than the test's clock moves: no currently_active change muddles what the watcher sees.
            InProcessTestCluster cluster = await PresenceCluster.DeployAsync(3, clock, o => o.Timings.LastActiveGranularity = TimeSpan.FromMinutes(3));
            try
            {
                List<InProcessSiloHandle> silos = [.. cluster.GetActiveSilos()];
                string[] users = [.. Enumerable.Range(0, 24).Select(i => $"@t{i}:test")];
                foreach (string user in users.Append(Watcher))
                {
                    await Presence(silos[0]).SetMembershipAsync(Room, user, "join");
                }

                for (int i = 0; i < users.Length; i++)
                {
                    await Presence(silos[i % 3]).SetSyncingAsync(users[i], "d1", start: true);
                }

                string[] mirrored = [.. Enumerable.Range(0, mirroredUsers).Select(i => $"@m{i}:test")];
                long now = clock.GetUtcNow().ToUnixTimeMilliseconds();
                await Presence(silos[0]).MirrorStatesAsync([.. mirrored.Select(m => new UserPresenceState(UserId.Parse(m), PresenceState.Online, now, now, now, "mirrored", true))]);
                foreach (InProcessSiloHandle silo in silos)
                {
                    await Eventually.TrueAsync(
                        () => mirrored.All(m => Fanout(silo).LatestState(UserId.Parse(m)).State == PresenceState.Online),
                        $"every mirrored user online on {silo.Name}");
                }

                // Every silo knows every user online (the survivors' view is what they take over from).
                foreach (InProcessSiloHandle silo in silos)
                {
                    await Eventually.TrueAsync(
                        async () => (await Presence(silo).SyncAsync(Watcher)).Events.Count(s => s.State == PresenceState.Online) == users.Length,
                        $"every user online on {silo.Name}");
                }

                // The clients keep syncing for longer than the sync timeout: the stored last sync is that old (as a
                // long-polling client's is), so only the grace keeps the takeover from timing them out at once.
                clock.Advance(TimeSpan.FromSeconds(40));
                foreach (InProcessSiloHandle silo in silos)
                {
                    await Presence(silo).DrainAsync();
                }

                // The primary holds the test cluster's membership: the victim is a secondary holding some users.
                var activations = await PresenceCluster.UserActivationsAsync(cluster);
                InProcessSiloHandle victim = silos.Skip(1).OrderByDescending(s => activations.Count(a => a.Silo.Equals(s.SiloAddress))).First();
                List<string> held = [.. activations.Where(a => a.Silo.Equals(victim.SiloAddress)).Select(a => a.User)];
                List<string> onVictim = [.. held.Intersect(users)];
                List<string> onSurvivors = [.. users.Except(onVictim)];
                Assert.NotEmpty(onVictim);
                Assert.NotEmpty(onSurvivors);
                // A mirrored state activates no grain (the owner applies it without one): the victim's mirrored users are those it owns.
                UserOwners owners = silos[0].ServiceProvider.GetRequiredService<UserOwners>();
                return new Setup(cluster, clock, victim, onVictim, onSurvivors, [.. mirrored.Where(m => owners.Owner(m).Equals(victim.SiloAddress))]);
            }
            catch
            {
                await cluster.DisposeAsync();
                throw;
            }
        }

        /// <summary>Waits until every survivor has handled the victim's death.</summary>
        public Task WaitForTakeoverAsync() =>
            Eventually.TrueAsync(() => Survivors.All(s => Takeover(s).DeathsHandled == 1), "every survivor handled the death");

        /// <summary>Moves the shared clock and lets the survivors' wake-ups and fan-out run.</summary>
        public async Task AdvanceAsync(TimeSpan delta)
        {
            Clock.Advance(delta);
            foreach (InProcessSiloHandle silo in Survivors)
            {
                await Presence(silo).DrainAsync();
            }
        }

        /// <summary>
        /// After the victim left: the survivors take over exactly the users whose grain was on it (those active on a
        /// survivor hold their own timers there), nothing changes before the grace ends, and past the grace (and so past
        /// the sync timeout of the devices that died with the victim) the watcher sees exactly those users go offline on
        /// every survivor: the users active on a survivor are left alone.
        /// </summary>
        public async Task ExpectTimersTakenOverAndTimedOutAsync()
        {
            await WaitForTakeoverAsync();
            Assert.Equal(OnVictim.Count, Survivors.Sum(s => Takeover(s).TakenOver));
            List<string> tokens = [];
            foreach (InProcessSiloHandle silo in Survivors)
            {
                tokens.Add((await Presence(silo).SyncAsync(Watcher)).NextBatch);
            }

            await AdvanceAsync(Grace - TimeSpan.FromSeconds(1));
            Assert.Empty((await Presence(Survivors[0]).SyncAsync(Watcher, tokens[0])).Events);

            await AdvanceAsync(TimeSpan.FromSeconds(2));
            for (int i = 0; i < Survivors.Count; i++)
            {
                InProcessSiloHandle silo = Survivors[i];
                string token = tokens[i];
                List<UserPresenceState> changes = [];
                await Eventually.TrueAsync(
                    async () =>
                    {
                        changes = [.. (await Presence(silo).SyncAsync(Watcher, token)).Events];
                        return changes.Count >= OnVictim.Count;
                    },
                    $"the dead silo's users' changes (on {silo.Name})");
                Assert.Equal(OnVictim.Order(StringComparer.Ordinal), changes.Select(s => s.UserId.ToString()).Order(StringComparer.Ordinal));
                Assert.All(changes, s => Assert.Equal(PresenceState.Offline, s.State));
            }

            await ExpectOneActivationPerUserAsync();
        }

        public async Task ExpectOneActivationPerUserAsync()
        {
            foreach (var group in (await PresenceCluster.UserActivationsAsync(Cluster)).GroupBy(a => a.User))
            {
                Assert.True(group.Count() == 1, $"{group.Key} has {group.Count()} activations");
            }
        }

        public ValueTask DisposeAsync() => Cluster.DisposeAsync();

        private static DeadSiloTakeover Takeover(InProcessSiloHandle silo) => silo.ServiceProvider.GetRequiredService<DeadSiloTakeover>();
    }
}

/// <summary>Which users <see cref="DeadSiloTakeover.TakeOver"/> schedules, and when (no cluster: a manual clock that never moves).</summary>
public sealed class DeadSiloTakeoverSchedulingTests : IDisposable
{
    private static readonly SiloAddress Self = Silo(11111);
    private static readonly SiloAddress Other = Silo(11112);
    private static readonly SiloAddress Dead = Silo(11113);
    private static readonly SiloAddress AlsoDead = Silo(11114);

    private readonly FakeTimeProvider _clock = new(TestClock.Start);
    private readonly IOptions<PresenceOptions> _options = Options.Create(new PresenceOptions());
    private readonly UserTable _users;
    private readonly PresenceWakeups _wakeups;
    private readonly PresenceMetrics _metrics = new();
    private readonly DeadSiloTakeover _takeover;

    public DeadSiloTakeoverSchedulingTests()
    {
        _users = new UserTable(_options);

        // No wake-up falls due (the clock stays put), so no grain is called: no grain factory, no membership stream.
        _wakeups = new PresenceWakeups(_users, null!, _clock, NullLogger<PresenceWakeups>.Instance);
        _takeover = new DeadSiloTakeover(null!, new LocalSilo(Self), _users, _wakeups, _metrics, _options, _clock, NullLogger<DeadSiloTakeover>.Instance);
    }

    private long Start => _clock.GetUtcNow().ToUnixTimeMilliseconds() + (long)_options.Value.Timings.TimeoutLoopFirstRun.TotalMilliseconds;

    [Fact]
    public void Non_offline_grid_users_without_a_wake_up_here_are_woken_one_a_millisecond_after_the_grace_and_a_later_death_queues_after()
    {
        int online = Add("@a:test", PresenceState.Online);
        int unavailable = Add("@b:test", PresenceState.Unavailable);
        int offline = Add("@c:test", PresenceState.Offline);
        int remote = Add("@r:elsewhere", PresenceState.Online);
        int heldHere = Add("@d:test", PresenceState.Busy);
        int unseen = _users.GetOrAdd(UserId.Parse("@e:test"));
        int mirrored = Add("@m:test", PresenceState.Online);
        _users[mirrored].Mirrored = true;
        long own = _clock.GetUtcNow().ToUnixTimeMilliseconds() + 1000;
        _wakeups.Schedule(heldHere, own);

        Assert.Equal(3, _takeover.TakeOver(Dead, Snapshot(1, (Self, SiloStatus.Active), (Dead, SiloStatus.Dead))));
        Assert.Equal(Start, _users[online].WakeAt);
        Assert.Equal(Start + 1, _users[unavailable].WakeAt);
        Assert.Equal(Start + 2, _users[remote].WakeAt);
        Assert.Equal(own, _users[heldHere].WakeAt);
        Assert.Equal(PresenceWakeups.Never, _users[offline].WakeAt);
        Assert.Equal(PresenceWakeups.Never, _users[unseen].WakeAt);
        Assert.Equal(PresenceWakeups.Never, _users[mirrored].WakeAt);

        // A second death at the same moment: its users queue after the first's, and those scheduled already stay.
        int later = Add("@f:test", PresenceState.Online);
        Assert.Equal(1, _takeover.TakeOver(AlsoDead, Snapshot(2, (Self, SiloStatus.Active), (Dead, SiloStatus.Dead), (AlsoDead, SiloStatus.Dead))));
        Assert.Equal(Start + 3, _users[later].WakeAt);
        Assert.Equal(Start, _users[online].WakeAt);
        Assert.Equal(4, _takeover.TakenOver);
    }

    [Fact]
    public void Only_the_users_this_silo_now_owns_are_taken_over()
    {
        int[] users = [.. Enumerable.Range(0, 40).Select(i => Add($"@o{i}:test", PresenceState.Online))];
        SiloAddress[] active = [Self, Other];
        bool[] mine = [.. users.Select(u => UserOwnerPlacementDirector.Owner(GrainId.Create(UserPresenceGrain.GrainType, _users[u].UserId.ToString()), active).Equals(Self))];
        Assert.Contains(true, mine);
        Assert.Contains(false, mine);

        int taken = _takeover.TakeOver(Dead, Snapshot(1, (Self, SiloStatus.Active), (Other, SiloStatus.Active), (Dead, SiloStatus.Dead)));

        Assert.Equal(mine.Count(m => m), taken);
        for (int i = 0; i < users.Length; i++)
        {
            Assert.Equal(mine[i], _users[users[i]].WakeAt != PresenceWakeups.Never);
        }
    }

    [Fact]
    public void A_silo_that_is_not_active_itself_takes_over_nothing()
    {
        int online = Add("@a:test", PresenceState.Online);
        Assert.Equal(0, _takeover.TakeOver(Dead, Snapshot(1, (Self, SiloStatus.ShuttingDown), (Other, SiloStatus.Active), (Dead, SiloStatus.Dead))));
        Assert.Equal(PresenceWakeups.Never, _users[online].WakeAt);
    }

    public void Dispose()
    {
        _wakeups.Dispose();
        _metrics.Dispose();
    }

    private static SiloAddress Silo(int port) => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, port), 1);

    private static ClusterMembershipSnapshot Snapshot(long version, params (SiloAddress Silo, SiloStatus Status)[] members) =>
        new(members.ToImmutableDictionary(m => m.Silo, m => new ClusterMember(m.Silo, m.Status, m.Silo.ToString())), new MembershipVersion(version));

    private int Add(string user, PresenceState state)
    {
        int index = _users.GetOrAdd(UserId.Parse(user));
        _users[index].LatestState = UserPresenceState.Default(_users[index].UserId) with { State = state };
        return index;
    }

    private sealed class LocalSilo(SiloAddress address) : ILocalSiloDetails
    {
        public string Name => "self";

        public string ClusterId => "test";

        public string DnsHostName => "localhost";

        public SiloAddress SiloAddress => address;

        public SiloAddress GatewayAddress => address;
    }
}
