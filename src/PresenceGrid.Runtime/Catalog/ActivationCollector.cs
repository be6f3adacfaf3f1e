namespace PresenceGrid.Runtime.Catalog;

/// <summary>
/// Idle collection (Orleans' <c>ActivationCollector</c>): every <c>CollectionQuantum</c> of the
/// silo's <see cref="TimeProvider"/>, activations idle longer than <c>CollectionAge</c> are asked
/// to deactivate; each checks again on its own turn.
/// </summary>
internal sealed class ActivationCollector : IDisposable
{
    private readonly SiloRuntime _runtime;
    private ITimer? _timer;

    public ActivationCollector(SiloRuntime runtime) => _runtime = runtime;

    public void Start()
    {
        TimeSpan quantum = _runtime.CollectionOptions.CollectionQuantum;
        using (ExecutionContext.SuppressFlow())
        {
            _timer = _runtime.TimeProvider.CreateTimer(static s => ((ActivationCollector)s!).CollectOnce(), this, quantum, quantum);
        }
    }

    /// <summary>Asks every idle activation to deactivate; returns how many were asked.</summary>
    public int CollectOnce()
    {
        long now = _runtime.TimeProvider.GetTimestamp();
        long ageTicks = (long)(_runtime.CollectionOptions.CollectionAge.TotalSeconds * _runtime.TimeProvider.TimestampFrequency);
        int asked = 0;
        foreach (ActivationData activation in _runtime.Catalog.All)
        {
            if (activation.IsCollectionCandidate(now, ageTicks))
            {
                activation.RequestCollection();
                asked++;
            }
        }

        return asked;
    }

    public void Dispose() => _timer?.Dispose();
}
