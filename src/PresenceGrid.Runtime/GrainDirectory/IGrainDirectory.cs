using System.Collections.Concurrent;

namespace PresenceGrid.Runtime.GrainDirectory;

/// <summary>
/// The authority on which activation of a grain is the one. The runtime registers an activation
/// before it runs <see cref="Grain.OnActivateAsync"/> and unregisters it on deactivation; it does
/// not consult the directory per call. A silo outside a cluster answers from its activation
/// catalog; in-process clusters share an in-memory directory; a real cluster uses PostgreSQL.
/// </summary>
public interface IGrainDirectory
{
    /// <summary>
    /// Registers <paramref name="address"/> unless another activation is registered, in which
    /// case that one is returned (first writer wins). When <paramref name="previousAddress"/> is
    /// given, an entry equal to it is replaced.
    /// </summary>
    /// <param name="address">The new activation.</param>
    /// <param name="previousAddress">An entry known to be stale, to replace; or null.</param>
    /// <returns>The registered address: <paramref name="address"/> when it won.</returns>
    ValueTask<GrainAddress> RegisterAsync(GrainAddress address, GrainAddress? previousAddress);

    /// <summary>Removes the entry if it is still <paramref name="address"/>.</summary>
    /// <param name="address">The activation that ends.</param>
    /// <returns>A task.</returns>
    ValueTask UnregisterAsync(GrainAddress address);

    /// <summary>Finds the registered activation of <paramref name="grainId"/>, if any.</summary>
    /// <param name="grainId">The grain.</param>
    /// <returns>The entry, or null.</returns>
    ValueTask<GrainAddress?> LookupAsync(GrainId grainId);

    /// <summary>Deletes the entries of silos the membership table says are dead (their grains re-activate anywhere).</summary>
    /// <param name="cancellationToken">Cancels the sweep.</param>
    /// <returns>How many entries were deleted.</returns>
    Task<int> RemoveDeadSiloEntriesAsync(CancellationToken cancellationToken) => Task.FromResult(0);
}

/// <summary>The grain directory shared by the silos of an in-process cluster: a dictionary.</summary>
public sealed class InMemoryGrainDirectory : IGrainDirectory
{
    private readonly ConcurrentDictionary<GrainId, GrainAddress> _entries = new();
    private readonly Membership.InMemoryMembershipTable? _membership;

    /// <summary>Creates a directory without a membership table (entries of other silos are never taken over).</summary>
    public InMemoryGrainDirectory()
    {
    }

    /// <summary>Creates a directory shared by an in-process cluster: entries of dead silos are taken over.</summary>
    /// <param name="membership">The cluster's membership table.</param>
    public InMemoryGrainDirectory(Membership.InMemoryMembershipTable membership) => _membership = membership;

    /// <summary>Every entry (for integrity checks).</summary>
    public IReadOnlyCollection<GrainAddress> Entries => [.. _entries.Values];

    /// <summary>The number of entries.</summary>
    public int Count => _entries.Count;

    /// <inheritdoc />
    public ValueTask<GrainAddress> RegisterAsync(GrainAddress address, GrainAddress? previousAddress)
    {
        ArgumentNullException.ThrowIfNull(address);
        while (true)
        {
            if (_entries.TryAdd(address.GrainId, address))
            {
                return ValueTask.FromResult(address);
            }

            if (!_entries.TryGetValue(address.GrainId, out GrainAddress? existing))
            {
                continue;
            }

            if ((previousAddress is not null && existing == previousAddress)
                || _membership?.StatusOf(existing.Silo) == Membership.SiloStatus.Dead)
            {
                if (_entries.TryUpdate(address.GrainId, address, existing))
                {
                    return ValueTask.FromResult(address);
                }

                continue;
            }

            return ValueTask.FromResult(existing);
        }
    }

    /// <inheritdoc />
    public ValueTask UnregisterAsync(GrainAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        _entries.TryRemove(new KeyValuePair<GrainId, GrainAddress>(address.GrainId, address));
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public Task<int> RemoveDeadSiloEntriesAsync(CancellationToken cancellationToken)
    {
        int removed = 0;
        if (_membership is not null)
        {
            foreach (GrainAddress entry in _entries.Values)
            {
                if (_membership.StatusOf(entry.Silo) == Membership.SiloStatus.Dead
                    && _entries.TryRemove(new KeyValuePair<GrainId, GrainAddress>(entry.GrainId, entry)))
                {
                    removed++;
                }
            }
        }

        return Task.FromResult(removed);
    }

    /// <summary>Reads an entry without waiting.</summary>
    /// <param name="grainId">The grain.</param>
    /// <param name="address">The entry.</param>
    /// <returns>True when there is one.</returns>
    public bool TryGetEntry(GrainId grainId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out GrainAddress? address) => _entries.TryGetValue(grainId, out address);

    /// <inheritdoc />
    public ValueTask<GrainAddress?> LookupAsync(GrainId grainId) =>
        ValueTask.FromResult(_entries.TryGetValue(grainId, out GrainAddress? address) ? address : null);
}
