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

    public CountingFakeTimeProvider Clock { get; } = new();

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

/// <summary>A fake clock that also counts its live timers (created and not yet disposed), so tests see a timeout's timer go.</summary>
internal sealed class CountingFakeTimeProvider() : FakeTimeProvider(TestClock.Start)
{
    private int _active;

    /// <summary>Timers created and not disposed.</summary>
    public int ActiveTimerCount => Volatile.Read(ref _active);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        Interlocked.Increment(ref _active);
        return new Counted(base.CreateTimer(callback, state, dueTime, period), this);
    }

    private sealed class Counted(ITimer inner, CountingFakeTimeProvider owner) : ITimer
    {
        private int _disposed;

        public bool Change(TimeSpan dueTime, TimeSpan period) => inner.Change(dueTime, period);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref owner._active);
            }

            inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
