using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using PresenceGrid.Hosting;
using PresenceGrid.Matrix;
using PresenceGrid.Runtime.Configuration;
using PresenceGrid.Testing;

namespace PresenceGrid.Grains.Tests;

/// <summary>One silo with presence on a manual clock, server name "test", rate limit off unless asked.</summary>
internal sealed class PresenceTestSilo : IAsyncDisposable
{
    private PresenceTestSilo(InProcessSilo silo, ManualTimeProvider clock)
    {
        Silo = silo;
        Clock = clock;
        Presence = silo.Services.GetRequiredService<PresenceService>();
    }

    public InProcessSilo Silo { get; }

    public ManualTimeProvider Clock { get; }

    public PresenceService Presence { get; }

    public IGrainFactory Grains => Silo.GrainFactory;

    public long NowMs => Clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>A silo with routing modules from Synapse-shaped configuration keys.</summary>
    public static Task<PresenceTestSilo> StartWithModulesAsync(IDictionary<string, string?> config, Action<PresenceOptions>? configure = null) =>
        StartAsync(configure, sc => sc.AddPresenceModules(new ConfigurationBuilder().AddInMemoryCollection(config).Build()));

    public static async Task<PresenceTestSilo> StartAsync(Action<PresenceOptions>? configure = null, Action<IServiceCollection>? services = null)
    {
        var clock = new ManualTimeProvider();
        InProcessSilo silo = await InProcessSilo.StartAsync(
            s => s.AddMemoryGrainStorage()
                .AddGrainAssembly(PresenceGrains.Assembly)
                .Configure<SiloMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromDays(30))
                .Configure<GrainCollectionOptions>(o => o.CollectionAge = TimeSpan.FromDays(10)),
            clock,
            sc =>
            {
                sc.AddPresenceGrid(o =>
                {
                    o.ServerNames.Add("test");
                    o.Timings.RatelimitPerSecond = 0;
                    configure?.Invoke(o);
                });
                services?.Invoke(sc);
            });
        return new PresenceTestSilo(silo, clock);
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

    public ValueTask DisposeAsync() => Silo.DisposeAsync();
}
