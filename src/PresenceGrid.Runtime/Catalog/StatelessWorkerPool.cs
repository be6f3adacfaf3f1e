using PresenceGrid.Invocation;

namespace PresenceGrid.Runtime.Catalog;

/// <summary>
/// The local activations of one stateless-worker key: calls go to an idle worker, a new one while
/// under the limit, or else the least loaded. Workers are not registered in the directory.
/// </summary>
internal sealed class StatelessWorkerPool
{
    private readonly SiloRuntime _runtime;
    private readonly GrainId _grainId;
    private readonly GrainClassDescriptor _descriptor;
    private readonly int _maxWorkers;
    private readonly object _lock = new();
    private ActivationData[] _workers = [];

    public StatelessWorkerPool(SiloRuntime runtime, GrainId grainId, GrainClassDescriptor descriptor)
    {
        _runtime = runtime;
        _grainId = grainId;
        _descriptor = descriptor;
        _maxWorkers = descriptor.MaxLocalWorkers > 0 ? descriptor.MaxLocalWorkers : runtime.MessagingOptions.MaxLocalStatelessWorkers;
    }

    public IReadOnlyList<ActivationData> Workers => Volatile.Read(ref _workers);

    public ActivationData Pick()
    {
        ActivationData[] workers = Volatile.Read(ref _workers);
        ActivationData? best = null;
        int bestLoad = int.MaxValue;
        foreach (ActivationData worker in workers)
        {
            if (worker.State is ActivationState.Deactivating or ActivationState.Invalid)
            {
                continue;
            }

            int load = worker.ApproximateLoad;
            if (load == 0)
            {
                return worker;
            }

            if (load < bestLoad)
            {
                best = worker;
                bestLoad = load;
            }
        }

        lock (_lock)
        {
            if (_workers.Length < _maxWorkers && !_runtime.IsStopping)
            {
                var created = new ActivationData(_runtime.GetGrainClass(_descriptor), _grainId, this);
                _workers = [.. _workers, created];
                created.StartActivation();
                return created;
            }
        }

        return best ?? throw new SiloUnavailableException($"No stateless worker of {_grainId} can take calls on silo {_runtime.LocalSilo.SiloAddress}: it is stopping.");
    }

    public void Remove(ActivationData worker)
    {
        lock (_lock)
        {
            _workers = [.. _workers.Where(w => !ReferenceEquals(w, worker))];
        }
    }
}
