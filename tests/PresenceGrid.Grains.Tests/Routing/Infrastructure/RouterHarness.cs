using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PresenceGrid.Matrix;
using PresenceGrid.Modules;
using PresenceGrid.Testing;

namespace PresenceGrid.Routing.Tests.Infrastructure;

/// <summary>A pipeline with a manual clock, captured logs and metrics, a fake operations seam and a loader.</summary>
internal sealed class RouterHarness : IDisposable
{
    public const string LocalServer = "example.org";

    private readonly TestMeterFactory _meterFactory = new();

    public RouterHarness(TimeSpan? timeout = null)
    {
        Metrics = new MetricsCollector(_meterFactory);
        var options = Options.Create(new RouterOptions { ModuleCallbackTimeout = timeout ?? RouterOptions.DefaultModuleCallbackTimeout });
        Pipeline = new PresenceRouterPipeline(options, Clock, Logs.CreateLogger<PresenceRouterPipeline>(), new RoutingInstruments(_meterFactory));
        Host = new ModuleHost(Operations, [ServerName.Parse(LocalServer)], Logs, Clock);
        Loader = new ModuleLoader(Pipeline, Host);
    }

    public ManualTimeProvider Clock { get; } = new();

    public CapturingLoggerFactory Logs { get; } = new();

    public MetricsCollector Metrics { get; }

    public FakePresenceModuleOperations Operations { get; } = new();

    public PresenceRouterPipeline Pipeline { get; }

    public ModuleHost Host { get; }

    public ModuleLoader Loader { get; }

    /// <summary>A module API for a module named <paramref name="name"/> at <paramref name="location"/>.</summary>
    public ModuleApi Api(string name, string location = "modules[0]") => new(new ModuleIdentity(name, location), Pipeline, Host);

    /// <summary>Registers both router callbacks under a module name.</summary>
    public void AddRouter(string name, GetUsersForStatesCallback getUsersForStates, GetInterestedUsersCallback getInterestedUsers) =>
        Api(name).RegisterPresenceRouterCallbacks(getUsersForStates, getInterestedUsers);

    /// <summary>Reads Synapse-shaped configuration and loads it.</summary>
    public IReadOnlyList<LoadedModule> Load(IConfiguration root)
    {
        var (modules, legacy) = ModuleLoader.ReadConfiguration(root);
        return Loader.Load(modules, legacy);
    }

    public void Dispose()
    {
        Metrics.Dispose();
        Host.Dispose();
        Pipeline.Dispose();
        _meterFactory.Dispose();
    }
}
