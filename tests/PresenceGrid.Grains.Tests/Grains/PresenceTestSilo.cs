using Microsoft.Extensions.Configuration;
using Orleans.TestingHost;
using PresenceGrid.Hosting;
using PresenceGrid.Matrix;
using PresenceGrid.Testing;

namespace PresenceGrid.Grains.Tests;

/// <summary>
/// One Orleans silo (TestingHost, in process) with presence on a manual clock, server name "test", rate limit off unless
/// asked. The clock drives the grid's own timers (the user grains' wake-ups, sync waits); Orleans' background timers
/// stay on real time.
/// </summary>
internal sealed class PresenceTestSilo : IAsyncDisposable
{
    private PresenceTestSilo(InProcessTestCluster cluster, FakeTimeProvider clock)
    {
        Cluster = cluster;
        Clock = clock;
        Services = cluster.Silos[0].ServiceProvider;
        Presence = Services.GetRequiredService<PresenceService>();
    }

    public InProcessTestCluster Cluster { get; }

    public IServiceProvider Services { get; }

    public FakeTimeProvider Clock { get; }

    public PresenceService Presence { get; }

    public IGrainFactory Grains => Services.GetRequiredService<IGrainFactory>();

    public long NowMs => Clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>A silo with routing modules from Synapse-shaped configuration keys.</summary>
    public static Task<PresenceTestSilo> StartWithModulesAsync(IDictionary<string, string?> config, Action<PresenceOptions>? configure = null) =>
        StartAsync(configure, sc => sc.AddPresenceModules(new ConfigurationBuilder().AddInMemoryCollection(config).Build()));

    /// <param name="configure">Presence options on top of the defaults.</param>
    /// <param name="services">More services.</param>
    /// <param name="store">The grain store (share one between silos to restart over the same state).</param>
    public static async Task<PresenceTestSilo> StartAsync(Action<PresenceOptions>? configure = null, Action<IServiceCollection>? services = null, SharedGrainStore? store = null)
    {
        var clock = new FakeTimeProvider(TestClock.Start);
        store ??= new SharedGrainStore();
        InProcessTestCluster cluster = new InProcessTestClusterBuilder(1)
            .ConfigureSilo((_, silo) =>
            {
                AddTestPresence(silo, clock, store, configure);
                services?.Invoke(silo.Services);
            })
            .Build();
        await cluster.DeployAsync();
        return new PresenceTestSilo(cluster, clock);
    }

    /// <summary>Moves the clock and lets every grain timer that fell due run before the next call.</summary>
    public async Task AdvanceAsync(TimeSpan delta)
    {
        Clock.Advance(delta);
        await Presence.DrainAsync();
    }

    public Task Put(string user, PresenceState presence, string? status = null) =>
        Presence.SetPresenceAsync(user, new PresenceStatusRequest(presence, status));

    public async Task<UserPresenceState> Get(string user) => await Presence.GetPresenceAsync(user, user);

    public Task Join(string room, params string[] users) =>
        Task.WhenAll(users.Select(u => Presence.SetMembershipAsync(room, u, "join")));

    /// <summary>An incremental sync after everything published so far has been delivered.</summary>
    public async Task<(List<UserPresenceState> Events, string Token)> Sync(string user, string? since = null, bool fullState = false)
    {
        await Presence.DrainAsync();
        var result = await Presence.SyncAsync(user, since, fullState);
        return ([.. result.Events], result.NextBatch);
    }

    public ValueTask DisposeAsync() => Cluster.DisposeAsync();

    /// <summary>
    /// What every test silo gets: the grid's timers on <paramref name="clock"/> (Orleans' background timers stay on real
    /// time), the shared durable store, and the grid with server name "test" and no rate limit.
    /// </summary>
    public static void AddTestPresence(ISiloBuilder silo, TimeProvider? clock, SharedGrainStore store, Action<PresenceOptions>? configure)
    {
        if (clock is not null)
        {
            silo.Services.AddSingleton(clock);
            silo.Services.UseTimeProviderForBackgroundAreas(TimeProvider.System);
        }

        store.AddTo(silo);
        silo.AddPresenceGrid(o =>
        {
            o.ServerNames.Add("test");
            o.Timings.RatelimitPerSecond = 0;
            configure?.Invoke(o);
        });
    }
}
