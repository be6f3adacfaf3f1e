using System.Collections.Concurrent;
using PresenceGrid.Runtime.GrainDirectory;
using PresenceGrid.Runtime.Networking;
using PresenceGrid.Runtime.Persistence;

namespace PresenceGrid.Runtime.Membership;

/// <summary>
/// What the silos of an in-process cluster share instead of a database and a network: a membership
/// table, a grain directory, fenced grain storage and a transport hub. It outlives any silo, so
/// every silo can be killed and state survives in it.
/// </summary>
public sealed class InMemoryClusterFabric
{
    private readonly ConcurrentDictionary<string, MemoryGrainStorage> _storage = new(StringComparer.Ordinal);

    /// <summary>Creates the fabric.</summary>
    /// <param name="clock">The membership table's clock (the "database clock").</param>
    public InMemoryClusterFabric(TimeProvider? clock = null)
    {
        Membership = new InMemoryMembershipTable(clock);
        Directory = new InMemoryGrainDirectory(Membership);
    }

    /// <summary>The membership table.</summary>
    public InMemoryMembershipTable Membership { get; }

    /// <summary>The grain directory.</summary>
    public InMemoryGrainDirectory Directory { get; }

    /// <summary>The transport hub.</summary>
    public InMemoryTransportHub Transport { get; } = new();

    /// <summary>The shared storage provider named <paramref name="name"/>.</summary>
    /// <param name="name">The provider name.</param>
    /// <param name="serializer">The serializer (used when the provider is created).</param>
    /// <returns>The provider.</returns>
    public MemoryGrainStorage Storage(string name, IGrainStateSerializer serializer) =>
        _storage.GetOrAdd(name, static (n, s) => new MemoryGrainStorage(n, s.Serializer, s.Directory), (Serializer: serializer, Directory));
}
