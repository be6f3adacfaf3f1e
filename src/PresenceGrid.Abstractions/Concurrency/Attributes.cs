namespace PresenceGrid.Concurrency;

/// <summary>
/// The grain class may interleave requests: while one request awaits, another may run. Turns are
/// still never concurrent.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = true)]
public sealed class ReentrantAttribute : Attribute
{
}

/// <summary>Calls to this interface method may interleave with any other request.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class AlwaysInterleaveAttribute : Attribute
{
}

/// <summary>The method does not change state: read-only requests may interleave with each other.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ReadOnlyAttribute : Attribute
{
}

/// <summary>
/// The call completes for the caller as soon as it is queued; no result and no exception come back.
/// The method must return <see cref="Task"/> or <see cref="ValueTask"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class OneWayAttribute : Attribute
{
}

/// <summary>
/// The grain keeps no identity-bound state: every silo runs up to <see cref="MaxLocalWorkers"/>
/// local activations per key, not registered in the directory, and calls go to a local one.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = true)]
public sealed class StatelessWorkerAttribute : Attribute
{
    /// <summary>Up to the silo's default number of workers per key.</summary>
    public StatelessWorkerAttribute()
    {
    }

    /// <summary>Up to <paramref name="maxLocalWorkers"/> workers per key on each silo.</summary>
    /// <param name="maxLocalWorkers">The limit; positive.</param>
    public StatelessWorkerAttribute(int maxLocalWorkers)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxLocalWorkers);
        MaxLocalWorkers = maxLocalWorkers;
    }

    /// <summary>The limit per key and silo; 0 means the silo's default.</summary>
    public int MaxLocalWorkers { get; }
}

/// <summary>
/// Instances of the type never change after construction (as Orleans' <c>[Immutable]</c>): the
/// runtime may share one instead of copying it. In-memory grain storage keeps such a state object
/// itself rather than a serialized copy, so a grain must replace the state object to change it,
/// never mutate it.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct, Inherited = false)]
public sealed class ImmutableAttribute : Attribute
{
}
