using PresenceGrid.Runtime.Catalog;

namespace PresenceGrid.Runtime.GrainDirectory;

/// <summary>
/// The grain directory of a silo that is not in a cluster: its activation catalog already holds at
/// most one activation per grain, so registering keeps nothing and lookups are answered from the
/// catalog (an entry per activation would cost about 140 bytes per online user and say nothing
/// the catalog does not).
/// </summary>
internal sealed class SingleSiloGrainDirectory : IGrainDirectory
{
    private ActivationCatalog? _catalog;

    /// <summary>Binds the catalog the lookups read (once, when the silo runtime is built).</summary>
    public void Attach(ActivationCatalog catalog) => _catalog = catalog;

    /// <inheritdoc />
    public ValueTask<GrainAddress> RegisterAsync(GrainAddress address, GrainAddress? previousAddress)
    {
        ArgumentNullException.ThrowIfNull(address);
        return ValueTask.FromResult(address);
    }

    /// <inheritdoc />
    public ValueTask UnregisterAsync(GrainAddress address) => ValueTask.CompletedTask;

    /// <inheritdoc />
    public ValueTask<GrainAddress?> LookupAsync(GrainId grainId) =>
        ValueTask.FromResult(_catalog is not null && _catalog.TryGet(grainId, out ActivationData? activation) ? activation.Address : null);
}
