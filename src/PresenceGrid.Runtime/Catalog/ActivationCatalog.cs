using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using PresenceGrid.Invocation;
using PresenceGrid.Runtime.GrainDirectory;

namespace PresenceGrid.Runtime.Catalog;

/// <summary>The activations of this silo, by grain id (Orleans' <c>Catalog</c>).</summary>
internal sealed class ActivationCatalog
{
    private readonly SiloRuntime _runtime;
    private readonly ActivationTable _activations = new();
    private readonly ConcurrentDictionary<GrainId, StatelessWorkerPool> _workers = new();

    public ActivationCatalog(SiloRuntime runtime) => _runtime = runtime;

    /// <summary>Activations of grains with identity (not stateless workers).</summary>
    public int Count => _activations.Count;

    /// <summary>All activations, stateless workers included.</summary>
    public IEnumerable<ActivationData> All => _activations.Snapshot().Concat(_workers.Values.SelectMany(pool => pool.Workers));

    public bool TryGet(GrainId grainId, [NotNullWhen(true)] out ActivationData? activation) => _activations.TryGetValue(grainId, out activation);

    public bool IsLocalActivation(GrainAddress address) =>
        _activations.TryGetValue(address.GrainId, out ActivationData? activation) && activation.ActivationId == address.ActivationId;

    /// <summary>
    /// The activation that should receive a call to <paramref name="grainId"/>: the existing one,
    /// a new one (exactly one wins under concurrent first calls), or a stateless worker.
    /// </summary>
    /// <exception cref="InvalidOperationException">When no grain class has the grain type.</exception>
    public ActivationData GetOrCreate(GrainId grainId)
    {
        if (_activations.TryGetValue(grainId, out ActivationData? existing))
        {
            return existing;
        }

        if (!GrainTypeManifest.TryGetGrainClass(grainId.Type, out GrainClassDescriptor descriptor))
        {
            throw new InvalidOperationException(
                $"No grain class has grain type '{grainId.Type}' (grain {grainId}). Is its assembly built with UsePresenceGridCodeGen=true and loaded?");
        }

        if (descriptor.IsStatelessWorker)
        {
            StatelessWorkerPool pool = _workers.GetOrAdd(grainId, static (id, state) => new StatelessWorkerPool(state.Runtime, id, state.Descriptor), (Runtime: _runtime, Descriptor: descriptor));
            return pool.Pick();
        }

        if (_runtime.IsStopping)
        {
            throw new SiloUnavailableException($"Silo {_runtime.LocalSilo.SiloAddress} is stopping and activates no grain ({grainId}).");
        }

        var created = new ActivationData(_runtime.GetGrainClass(descriptor), grainId, pool: null);
        ActivationData winner = _activations.GetOrAdd(created);
        if (ReferenceEquals(winner, created))
        {
            created.StartActivation();
        }

        return winner;
    }

    public void Remove(ActivationData activation)
    {
        if (!_activations.TryRemove(activation)
            && _workers.TryGetValue(activation.GrainId, out StatelessWorkerPool? pool))
        {
            pool.Remove(activation);
        }
    }
}
