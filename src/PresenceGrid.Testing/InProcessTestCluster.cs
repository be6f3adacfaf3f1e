using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PresenceGrid.Runtime.GrainDirectory;
using PresenceGrid.Runtime.Hosting;
using PresenceGrid.Runtime.Membership;

namespace PresenceGrid.Testing;

/// <summary>What a silo of an in-process cluster is told when it is configured.</summary>
/// <param name="Index">The silo's number (0, 1, … in start order; restarts get new numbers).</param>
/// <param name="SiloName">Its name.</param>
public sealed record InProcessSiloOptions(int Index, string SiloName);

/// <summary>
/// Builds an <see cref="InProcessTestCluster"/>, as Orleans' <c>InProcessTestClusterBuilder</c>:
/// silo count, per-silo configuration by delegate, cluster options. Silos share an
/// <see cref="InMemoryClusterFabric"/> (membership, directory, storage, transport) unless
/// <see cref="UseClustering"/> puts them on real engines (PostgreSQL, Kestrel).
/// </summary>
public sealed class InProcessTestClusterBuilder
{
    private readonly List<Action<InProcessSiloOptions, ISiloBuilder>> _silo = [];
    private readonly List<Action<InProcessSiloOptions, IServiceCollection>> _services = [];
    private readonly List<Action<ClusterOptions>> _cluster = [];
    private Action<InProcessSiloOptions, ISiloBuilder, Action<ClusterOptions>>? _clustering;

    /// <summary>Creates the builder.</summary>
    /// <param name="siloCount">How many silos start (default 2).</param>
    public InProcessTestClusterBuilder(int siloCount = 2)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(siloCount);
        SiloCount = siloCount;
    }

    /// <summary>How many silos start.</summary>
    public int SiloCount { get; }

    /// <summary>The fabric the silos share (in-memory clustering).</summary>
    public InMemoryClusterFabric Fabric { get; private set; } = new();

    /// <summary>The clock of every silo (and of the in-memory membership table when <see cref="UseFabric"/> is not called).</summary>
    public TimeProvider TimeProvider { get; private set; } = TimeProvider.System;

    /// <summary>The lowest level logged (default Warning).</summary>
    public LogLevel MinimumLogLevel { get; set; } = LogLevel.Warning;

    /// <summary>Configures each silo (grain assemblies, options, storage).</summary>
    /// <param name="configure">Called for every silo.</param>
    /// <returns>This builder.</returns>
    public InProcessTestClusterBuilder ConfigureSilo(Action<InProcessSiloOptions, ISiloBuilder> configure)
    {
        _silo.Add(configure);
        return this;
    }

    /// <summary>Adds or replaces each silo's services.</summary>
    /// <param name="configure">Called for every silo.</param>
    /// <returns>This builder.</returns>
    public InProcessTestClusterBuilder ConfigureServices(Action<InProcessSiloOptions, IServiceCollection> configure)
    {
        _services.Add(configure);
        return this;
    }

    /// <summary>Sets lease and forwarding options of every silo.</summary>
    /// <param name="configure">Sets options.</param>
    /// <returns>This builder.</returns>
    public InProcessTestClusterBuilder ConfigureCluster(Action<ClusterOptions> configure)
    {
        _cluster.Add(configure);
        return this;
    }

    /// <summary>Uses this fabric (for example one with a fake clock) instead of a new one.</summary>
    /// <param name="fabric">The fabric.</param>
    /// <returns>This builder.</returns>
    public InProcessTestClusterBuilder UseFabric(InMemoryClusterFabric fabric)
    {
        Fabric = fabric;
        return this;
    }

    /// <summary>Gives every silo this clock.</summary>
    /// <param name="timeProvider">The clock.</param>
    /// <returns>This builder.</returns>
    public InProcessTestClusterBuilder UseTimeProvider(TimeProvider timeProvider)
    {
        TimeProvider = timeProvider;
        return this;
    }

    /// <summary>
    /// Replaces in-memory clustering: the delegate registers membership, directory, storage and
    /// transport and calls <c>AddClustering</c> with the given options delegate.
    /// </summary>
    /// <param name="clustering">Sets up clustering for one silo.</param>
    /// <returns>This builder.</returns>
    public InProcessTestClusterBuilder UseClustering(Action<InProcessSiloOptions, ISiloBuilder, Action<ClusterOptions>> clustering)
    {
        _clustering = clustering;
        return this;
    }

    /// <summary>Starts the silos and waits until every one sees all of them active.</summary>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The cluster.</returns>
    public async Task<InProcessTestCluster> DeployAsync(CancellationToken cancellationToken = default)
    {
        var cluster = new InProcessTestCluster(this);
        try
        {
            for (int i = 0; i < SiloCount; i++)
            {
                await cluster.StartAdditionalSiloAsync(cancellationToken).ConfigureAwait(false);
            }

            await cluster.WaitForLivenessToStabilizeAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return cluster;
    }

    internal async Task<IHost> StartSiloHostAsync(InProcessSiloOptions options, CancellationToken cancellationToken)
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Testing" });
        builder.Logging.SetMinimumLevel(MinimumLogLevel);
        builder.Services.AddSingleton(TimeProvider);
        builder.UsePresenceGridSilo(silo =>
        {
            silo.Configure<Runtime.Configuration.SiloOptions>(o => o.SiloName = options.SiloName);
            void Cluster(ClusterOptions o)
            {
                foreach (Action<ClusterOptions> configure in _cluster)
                {
                    configure(o);
                }
            }

            if (_clustering is null)
            {
                silo.UseInMemoryClustering(Fabric, Cluster);
            }
            else
            {
                _clustering(options, silo, Cluster);
            }

            foreach (Action<InProcessSiloOptions, ISiloBuilder> configure in _silo)
            {
                configure(options, silo);
            }
        });
        foreach (Action<InProcessSiloOptions, IServiceCollection> configure in _services)
        {
            configure(options, builder.Services);
        }

        return await InProcessSilo.BuildAndStartAsync(builder, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>A silo of an <see cref="InProcessTestCluster"/>.</summary>
public sealed class InProcessSiloHandle
{
    private readonly IHost _host;

    private bool _stopped;

    internal InProcessSiloHandle(IHost host, InProcessSiloOptions options)
    {
        _host = host;
        Options = options;
        Silo = host.Services.GetRequiredService<Silo>();
        GrainFactory = host.Services.GetRequiredService<IGrainFactory>();
    }

    /// <summary>Its index and name.</summary>
    public InProcessSiloOptions Options { get; }

    /// <summary>Its name.</summary>
    public string Name => Options.SiloName;

    /// <summary>Its services.</summary>
    public IServiceProvider Services => _host.Services;

    /// <summary>The silo.</summary>
    public Silo Silo { get; }

    /// <summary>Its address in the cluster.</summary>
    public SiloAddress SiloAddress => Silo.SiloAddress;

    /// <summary>Its grain factory (a client hosted in the silo).</summary>
    public IGrainFactory GrainFactory { get; }

    /// <summary>True until it is stopped, killed, or declared dead by the cluster.</summary>
    public bool IsAlive => !_stopped && !Silo.DeclaredDead.IsCompleted;

    /// <summary>The active silos this silo sees.</summary>
    public IReadOnlyList<SiloAddress> ActiveView => Silo.Cluster?.View.Active ?? [];

    /// <summary>Whether this silo holds an activation of <paramref name="grainId"/>.</summary>
    /// <param name="grainId">The grain.</param>
    /// <returns>True when activated here.</returns>
    public bool HasActivation(GrainId grainId) => Silo.Runtime.Catalog.TryGet(grainId, out _);

    internal IHost Host => _host;

    internal bool IsStopped => _stopped;

    internal void MarkStopped() => _stopped = true;

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({(IsAlive ? SiloAddress.ToString() : "down")})";
}

/// <summary>
/// Several silos in this process (Orleans' <c>InProcessTestCluster</c>): start more, stop one
/// gracefully, kill one (no goodbye: peers must detect it), freeze one (a zombie whose lease
/// lapses while its grains still run), restart one (a new epoch), and wait for membership to settle.
/// </summary>
public sealed class InProcessTestCluster : IAsyncDisposable
{
    private readonly InProcessTestClusterBuilder _builder;
    private readonly List<InProcessSiloHandle> _silos = [];
    private readonly Lock _lock = new();
    private int _next;

    internal InProcessTestCluster(InProcessTestClusterBuilder builder) => _builder = builder;

    /// <summary>The fabric the silos share (in-memory clustering).</summary>
    public InMemoryClusterFabric Fabric => _builder.Fabric;

    /// <summary>Every silo started so far, dead ones included.</summary>
    public IReadOnlyList<InProcessSiloHandle> Silos
    {
        get
        {
            lock (_lock)
            {
                return [.. _silos];
            }
        }
    }

    /// <summary>The silos still running.</summary>
    /// <returns>The live silos.</returns>
    public IReadOnlyList<InProcessSiloHandle> GetActiveSilos() => [.. Silos.Where(s => s.IsAlive)];

    /// <summary>A grain factory of a live silo (the first).</summary>
    public IGrainFactory Client => GetActiveSilos().FirstOrDefault()?.GrainFactory ?? throw new InvalidOperationException("No silo is running.");

    /// <summary>Starts one more silo.</summary>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>Its handle.</returns>
    public async Task<InProcessSiloHandle> StartAdditionalSiloAsync(CancellationToken cancellationToken = default)
    {
        int index = Interlocked.Increment(ref _next) - 1;
        var options = new InProcessSiloOptions(index, $"silo-{index}");
        IHost host = await _builder.StartSiloHostAsync(options, cancellationToken).ConfigureAwait(false);
        var handle = new InProcessSiloHandle(host, options);
        lock (_lock)
        {
            _silos.Add(handle);
        }

        return handle;
    }

    /// <summary>Stops a silo gracefully: it leaves membership, deactivates its grains and writes their state.</summary>
    /// <param name="silo">The silo.</param>
    /// <returns>A task.</returns>
    public async Task StopSiloAsync(InProcessSiloHandle silo)
    {
        if (silo.IsStopped)
        {
            return;
        }

        silo.MarkStopped();
        try
        {
            await silo.Host.StopAsync().ConfigureAwait(false);
        }
        finally
        {
            silo.Host.Dispose();
        }
    }

    /// <summary>Kills a silo abruptly: no deactivation, no state written, no membership update; peers detect it when its lease lapses.</summary>
    /// <param name="silo">The silo.</param>
    /// <returns>A task.</returns>
    public async Task KillSiloAsync(InProcessSiloHandle silo)
    {
        if (silo.IsStopped)
        {
            return;
        }

        silo.MarkStopped();
        await silo.Silo.KillAsync().ConfigureAwait(false);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        try
        {
            await silo.Host.StopAsync(cancelled.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        silo.Host.Dispose();
    }

    /// <summary>Freezes a silo (its lease is no longer renewed, it stops judging peers) or thaws it; its grains keep running.</summary>
    /// <param name="silo">The silo.</param>
    /// <param name="frozen">True to freeze, false to thaw.</param>
    public void FreezeSilo(InProcessSiloHandle silo, bool frozen = true) => silo.Silo.Freeze(frozen);

    /// <summary>Stops (gracefully) and starts a silo again: the new one is a new incarnation.</summary>
    /// <param name="silo">The silo.</param>
    /// <returns>The new silo.</returns>
    public async Task<InProcessSiloHandle> RestartSiloAsync(InProcessSiloHandle silo)
    {
        await StopSiloAsync(silo).ConfigureAwait(false);
        return await StartAdditionalSiloAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Waits until every live silo sees exactly the live silos as active (a killed silo must first be
    /// declared dead, which takes its lease time plus grace).
    /// </summary>
    /// <param name="timeout">How long at most (default: 3 lease times + 10 s).</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task.</returns>
    /// <exception cref="TimeoutException">When membership did not settle in time.</exception>
    public async Task WaitForLivenessToStabilizeAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        TimeSpan lease = GetActiveSilos().FirstOrDefault()?.Silo.Cluster?.Options.LeaseTime ?? TimeSpan.FromSeconds(10);
        TimeSpan limit = timeout ?? (lease * 3) + TimeSpan.FromSeconds(10);
        DateTime deadline = DateTime.UtcNow + limit;
        while (true)
        {
            IReadOnlyList<InProcessSiloHandle> live = GetActiveSilos();
            var expected = live.Select(s => s.SiloAddress).OrderBy(a => a.ToString(), StringComparer.Ordinal).ToArray();
            if (live.All(s => s.ActiveView.OrderBy(a => a.ToString(), StringComparer.Ordinal).SequenceEqual(expected)))
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                string views = string.Join("; ", live.Select(s => $"{s.Name} sees [{string.Join(", ", s.ActiveView)}]"));
                throw new TimeoutException($"Membership did not settle within {limit}: expected [{string.Join(", ", expected.Select(a => a.ToString()))}]; {views}.");
            }

            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Orleans' ElasticChaos: every <paramref name="interval"/>, kills a silo, stops one gracefully
    /// or starts one (at most <paramref name="maxSilos"/>, never below one), chosen by
    /// <paramref name="random"/>; then makes sure at least two run and waits for membership to settle.
    /// </summary>
    /// <param name="random">Chooses the changes (seed it for a repeatable run).</param>
    /// <param name="rounds">How many changes.</param>
    /// <param name="interval">The time between changes.</param>
    /// <param name="maxSilos">The most silos that run at once.</param>
    /// <returns>A task.</returns>
    public async Task RunChaosAsync(Random random, int rounds, TimeSpan interval, int maxSilos = 4)
    {
        ArgumentNullException.ThrowIfNull(random);
        for (int round = 0; round < rounds; round++)
        {
            await Task.Delay(interval).ConfigureAwait(false);
            IReadOnlyList<InProcessSiloHandle> live = GetActiveSilos();
            switch (random.Next(3))
            {
                case 0 when live.Count > 1:
                    await KillSiloAsync(live[random.Next(live.Count)]).ConfigureAwait(false);
                    break;
                case 1 when live.Count > 1:
                    await StopSiloAsync(live[random.Next(live.Count)]).ConfigureAwait(false);
                    break;
                default:
                    if (live.Count < maxSilos)
                    {
                        await StartAdditionalSiloAsync().ConfigureAwait(false);
                    }

                    break;
            }
        }

        while (GetActiveSilos().Count < 2)
        {
            await StartAdditionalSiloAsync().ConfigureAwait(false);
        }

        await WaitForLivenessToStabilizeAsync().ConfigureAwait(false);
    }

    /// <summary>Stops every live silo gracefully.</summary>
    /// <returns>A task.</returns>
    public async ValueTask DisposeAsync()
    {
        foreach (InProcessSiloHandle silo in Silos.Where(s => !s.IsStopped))
        {
            try
            {
                await StopSiloAsync(silo).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Best effort: a silo that fails to stop must not keep the others running.
            }
        }
    }
}
