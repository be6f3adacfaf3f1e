using System.Diagnostics.CodeAnalysis;

namespace PresenceGrid.Runtime.Catalog;

/// <summary>
/// The catalog's map from grain id to activation, with each activation as its own hash node (linked
/// through <see cref="ActivationData.NextInTable"/>): no node object per activation, which matters
/// with one activation per online user. Lookups take no lock; adds, removals and resizes take one.
/// </summary>
/// <remarks>
/// A resize relinks the nodes while lookups may be walking them. Every link a resize writes points
/// at a node it already moved, so a walk still ends, but it may miss its key: a lookup that found
/// nothing checks the resize counter (odd while a resize runs) and, if a resize ran, waits for the
/// lock and looks again. A removed node keeps its link, so a lookup standing on it walks on.
/// </remarks>
internal sealed class ActivationTable
{
    private const int InitialBuckets = 64;

    private readonly Lock _writeLock = new();
    private ActivationData?[] _buckets = new ActivationData?[InitialBuckets];
    private int _count;
    private int _resizes;

    /// <summary>The number of activations in the table.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Finds the activation of <paramref name="grainId"/>, without locking.</summary>
    /// <param name="grainId">The grain id.</param>
    /// <param name="activation">The activation when found.</param>
    /// <returns>Whether it was found.</returns>
    public bool TryGetValue(GrainId grainId, [NotNullWhen(true)] out ActivationData? activation)
    {
        while (true)
        {
            int resizes = Volatile.Read(ref _resizes);
            if (Find(Volatile.Read(ref _buckets), grainId) is { } found)
            {
                activation = found;
                return true;
            }

            if ((resizes & 1) == 0 && Volatile.Read(ref _resizes) == resizes)
            {
                activation = null;
                return false;
            }

            // A resize moved nodes under this walk: wait for it to finish, then look again.
            lock (_writeLock)
            {
            }
        }
    }

    /// <summary>Adds <paramref name="activation"/> unless its grain already has one.</summary>
    /// <param name="activation">A new activation, never in a table before.</param>
    /// <returns>The activation now in the table for its grain: <paramref name="activation"/> or the one already there.</returns>
    public ActivationData GetOrAdd(ActivationData activation)
    {
        lock (_writeLock)
        {
            ActivationData?[] buckets = _buckets;
            if (Find(buckets, activation.GrainId) is { } existing)
            {
                return existing;
            }

            if (_count >= buckets.Length)
            {
                buckets = Resize(buckets);
            }

            ref ActivationData? head = ref buckets[Index(activation.GrainId, buckets.Length)];
            activation.NextInTable = head;
            Volatile.Write(ref head, activation); // published whole: its link is set before it is reachable
            Volatile.Write(ref _count, _count + 1);
            return activation;
        }
    }

    /// <summary>Removes <paramref name="activation"/> if it is the one in the table.</summary>
    /// <param name="activation">The activation.</param>
    /// <returns>Whether it was removed.</returns>
    public bool TryRemove(ActivationData activation)
    {
        lock (_writeLock)
        {
            ActivationData?[] buckets = _buckets;
            ref ActivationData? link = ref buckets[Index(activation.GrainId, buckets.Length)];
            while (link is { } node)
            {
                if (ReferenceEquals(node, activation))
                {
                    Volatile.Write(ref link, node.NextInTable);
                    Volatile.Write(ref _count, _count - 1);
                    return true;
                }

                link = ref node.NextInTable;
            }

            return false;
        }
    }

    /// <summary>Every activation in the table at one moment.</summary>
    /// <returns>A new array.</returns>
    public ActivationData[] Snapshot()
    {
        lock (_writeLock)
        {
            var all = new ActivationData[_count];
            int i = 0;
            foreach (ActivationData? head in _buckets)
            {
                for (ActivationData? node = head; node is not null; node = node.NextInTable)
                {
                    all[i++] = node;
                }
            }

            return all;
        }
    }

    private static ActivationData? Find(ActivationData?[] buckets, GrainId grainId)
    {
        for (ActivationData? node = Volatile.Read(ref buckets[Index(grainId, buckets.Length)]); node is not null; node = Volatile.Read(ref node.NextInTable))
        {
            if (node.GrainId.Equals(grainId))
            {
                return node;
            }
        }

        return null;
    }

    private static int Index(GrainId grainId, int length) => (int)((uint)grainId.GetHashCode() & (uint)(length - 1));

    private ActivationData?[] Resize(ActivationData?[] buckets)
    {
        var resized = new ActivationData?[buckets.Length * 2];
        Volatile.Write(ref _resizes, _resizes + 1); // odd: relinking
        foreach (ActivationData? head in buckets)
        {
            ActivationData? node = head;
            while (node is not null)
            {
                ActivationData? next = node.NextInTable;
                ref ActivationData? target = ref resized[Index(node.GrainId, resized.Length)];
                Volatile.Write(ref node.NextInTable, target);
                target = node;
                node = next;
            }
        }

        Volatile.Write(ref _buckets, resized);
        Volatile.Write(ref _resizes, _resizes + 1); // even: done
        return resized;
    }
}
