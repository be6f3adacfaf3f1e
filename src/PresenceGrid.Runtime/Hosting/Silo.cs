using Microsoft.Extensions.Hosting;
using PresenceGrid.Invocation;
using PresenceGrid.Runtime.Catalog;
using PresenceGrid.Runtime.Diagnostics;
using PresenceGrid.Runtime.GrainDirectory;
using PresenceGrid.Runtime.Membership;

namespace PresenceGrid.Runtime.Hosting;

/// <summary>
/// A running silo: hosts activations, collects idle ones, times out calls, and deactivates
/// everything gracefully when the host stops.
/// </summary>
public sealed class Silo : IHostedService, IDisposable
{
    private readonly SiloRuntime _runtime;
    private readonly ActivationCollector _collector;
    private readonly GrainAssemblies _assemblies;
    private readonly ClusterServices? _cluster;

    internal Silo(SiloRuntime runtime, GrainAssemblies assemblies, ClusterServices? cluster = null)
    {
        _runtime = runtime;
        _assemblies = assemblies;
        _cluster = cluster;
        _collector = new ActivationCollector(runtime);
    }

    /// <summary>This silo's address.</summary>
    public SiloAddress SiloAddress => _runtime.LocalSilo.SiloAddress;

    /// <summary>This silo's name.</summary>
    public string Name => _runtime.LocalSilo.Name;

    /// <summary>The number of activations in memory (stateless workers included).</summary>
    public int ActivationCount => _runtime.Catalog.All.Count();

    internal SiloRuntime Runtime => _runtime;

    internal ActivationCollector Collector => _collector;

    internal ClusterServices? Cluster => _cluster;

    /// <summary>
    /// Asks every other active silo for its activation count (a ping over the silo transport);
    /// silos that do not answer within <paramref name="timeout"/> are left out.
    /// </summary>
    /// <param name="timeout">How long to wait for each answer.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Silo → activation count (this silo included).</returns>
    public async Task<IReadOnlyDictionary<SiloAddress, long>> GetActivationCountsAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var counts = new Dictionary<SiloAddress, long> { [SiloAddress] = _runtime.Catalog.Count };
        if (_cluster is null)
        {
            return counts;
        }

        SiloAddress[] peers = [.. _cluster.View.Active.Where(a => a != SiloAddress)];
        long?[] answers = await Task.WhenAll(peers.Select(async peer =>
        {
            try
            {
                return (long?)await _cluster.Messages.PingAsync(peer, timeout, cancellationToken).ConfigureAwait(false);
            }
            catch (SiloUnavailableException)
            {
                return null;
            }
        })).ConfigureAwait(false);
        for (int i = 0; i < peers.Length; i++)
        {
            if (answers[i] is { } count)
            {
                counts[peers[i]] = count;
            }
        }

        return counts;
    }

    /// <summary>The membership view this silo works with, or null for a single silo.</summary>
    public MembershipView? Membership => _cluster?.View.Membership;

    /// <summary>Completes when the cluster declared this silo dead (it stopped serving); never for a single silo.</summary>
    public Task DeclaredDead => _declaredDead.Task;

    private volatile bool _killed;

    private readonly TaskCompletionSource _declaredDead = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _assemblies.EnsureLoaded();
        _runtime.InFlight.Start();
        _collector.Start();
        if (_cluster is not null)
        {
            _cluster.DeclaredDead += () =>
            {
                AbandonActivations();
                _declaredDead.TrySetResult();
            };
            await _cluster.StartAsync(_runtime.LocalSilo.Name, cancellationToken).ConfigureAwait(false);
        }

        RuntimeLog.SiloStarted(_runtime.Logger, _runtime.LocalSilo.Name, _runtime.LocalSilo.SiloAddress.ToString(), GrainTypeManifest.GrainClassDescriptors.Count());
    }

    /// <summary>
    /// Kills the silo as a crash would: no deactivation, no state written, no goodbye to the
    /// cluster; connections drop and peers must detect the death through the lapsed lease.
    /// </summary>
    /// <returns>A task.</returns>
    internal async Task KillAsync()
    {
        _killed = true;
        _runtime.MarkStopping();
        _collector.Dispose();
        if (_cluster is not null)
        {
            await _cluster.AbortAsync().ConfigureAwait(false);
        }

        AbandonActivations();
        _runtime.InFlight.FailAll(static request => new SiloUnavailableException($"The silo was killed before {request} completed."));
    }

    /// <summary>Pauses (or resumes) lease renewal and failure detection: the silo becomes a zombie that still runs its grains.</summary>
    /// <param name="frozen">True to freeze.</param>
    internal void Freeze(bool frozen) => _cluster?.Agent.Freeze(frozen);

    private void AbandonActivations()
    {
        foreach (ActivationData activation in _runtime.Catalog.All.ToArray())
        {
            activation.Abandon();
            _runtime.Catalog.Remove(activation);
        }
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_killed)
        {
            // A killed silo says no goodbye: peers must detect the death through its lapsed lease.
            return;
        }

        if (_cluster is not null && !_cluster.Agent.IsDeadSelf)
        {
            try
            {
                await _cluster.Agent.BeginLeaveAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                RuntimeLog.LeaveFailed(_runtime.Logger, exception);
            }
        }

        _runtime.MarkStopping();
        _collector.Dispose();
        ActivationData[] activations = [.. _runtime.Catalog.All];
        var reason = new DeactivationReason(DeactivationReasonCode.ShuttingDown, "the silo is stopping");
        foreach (ActivationData activation in activations)
        {
            activation.RequestDeactivation(reason);
        }

        Task all = Task.WhenAll(activations.Select(a => a.Deactivated));
        try
        {
            await all.WaitAsync(_runtime.CollectionOptions.DeactivationTimeout, _runtime.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is TimeoutException or OperationCanceledException)
        {
            // Stop anyway: what did not finish is abandoned, as on a kill.
        }

        _runtime.InFlight.FailAll(static request => new SiloUnavailableException($"The silo stopped before {request} completed."));
        if (_cluster is not null)
        {
            try
            {
                await _cluster.Agent.FinishLeaveAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                RuntimeLog.LeaveFailed(_runtime.Logger, exception);
            }

            await _cluster.DisposeAsync().ConfigureAwait(false);
        }

        RuntimeLog.SiloStopped(_runtime.Logger, _runtime.LocalSilo.Name, activations.Length);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _collector.Dispose();
        _runtime.Dispose();
    }
}

/// <summary>This silo's identity for a single-process silo.</summary>
internal sealed class LocalSiloDetails : ILocalSiloDetails
{
    public LocalSiloDetails(string name, TimeProvider timeProvider)
    {
        Name = name;
        SiloAddress = new SiloAddress($"local:{name}", timeProvider.GetUtcNow().ToUnixTimeMilliseconds());
    }

    public SiloAddress SiloAddress { get; }

    public string Name { get; }
}

/// <summary>Assemblies whose generated grain manifests must be registered before the silo serves.</summary>
internal sealed class GrainAssemblies
{
    private readonly List<System.Reflection.Assembly> _assemblies = [];

    public void Add(System.Reflection.Assembly assembly)
    {
        if (!_assemblies.Contains(assembly))
        {
            _assemblies.Add(assembly);
        }
    }

    /// <summary>Runs each assembly's module initializer (idempotent), which registers its grains.</summary>
    public void EnsureLoaded()
    {
        foreach (System.Reflection.Assembly assembly in _assemblies)
        {
            System.Runtime.CompilerServices.RuntimeHelpers.RunModuleConstructor(assembly.ManifestModule.ModuleHandle);
        }
    }
}
