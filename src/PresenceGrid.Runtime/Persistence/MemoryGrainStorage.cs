using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PresenceGrid.Concurrency;
using PresenceGrid.Persistence;

namespace PresenceGrid.Runtime.Persistence;

/// <summary>
/// Grain storage in this process's memory, with the same ETag rules as durable providers. State is
/// kept serialized, so a grain's unsaved changes never leak into storage; a state type marked
/// <see cref="ImmutableAttribute"/> cannot have unsaved changes, so the object itself is kept
/// (no bytes, no serialization per write). For the embedded default and tests: it dies with the process.
/// </summary>
public sealed class MemoryGrainStorage : IGrainStorage, IGrainStorageScan
{
    // One table per state name: the grain id alone keys a record.
    private readonly ConcurrentDictionary<string, RecordTable> _states = new(StringComparer.Ordinal);
    private readonly IGrainStateSerializer _serializer;
    private readonly string _name;
    private long _version;

    /// <summary>Creates the storage.</summary>
    /// <param name="name">The provider's name, for messages.</param>
    /// <param name="serializer">The state serializer.</param>
    public MemoryGrainStorage(string name, IGrainStateSerializer serializer)
    {
        _name = name;
        _serializer = serializer;
    }

    /// <summary>Creates storage shared by an in-process cluster, fenced by its directory: only the registered activation may write.</summary>
    /// <param name="name">The provider's name, for messages.</param>
    /// <param name="serializer">The state serializer.</param>
    /// <param name="fence">The cluster's directory.</param>
    public MemoryGrainStorage(string name, IGrainStateSerializer serializer, GrainDirectory.InMemoryGrainDirectory fence)
        : this(name, serializer) => _fence = fence;

    private readonly GrainDirectory.InMemoryGrainDirectory? _fence;

    /// <inheritdoc />
    public Task<IReadOnlyList<KeyValuePair<GrainId, TState>>> ReadAllAsync<TState>(string stateName, string grainType, CancellationToken cancellationToken)
    {
        var result = new List<KeyValuePair<GrainId, TState>>();
        if (_states.TryGetValue(stateName, out RecordTable? records))
        {
            foreach ((GrainId grainId, StoredRecord record) in records.Snapshot())
            {
                if (grainId.Type == grainType)
                {
                    result.Add(new(grainId, Restore<TState>(record)));
                }
            }
        }

        return Task.FromResult<IReadOnlyList<KeyValuePair<GrainId, TState>>>(result);
    }

    private void CheckFence<TState>(string operation, string stateName, GrainId grainId, IGrainState<TState> grainState)
    {
        if (_fence is null || grainState.ActivationId == Guid.Empty)
        {
            return;
        }

        if (!_fence.TryGetEntry(grainId, out GrainDirectory.GrainAddress? entry) || entry.ActivationId != grainState.ActivationId)
        {
            throw new GrainStateFencedException(
                $"Storage '{_name}' refused to {operation} state '{stateName}' of grain {grainId}: activation {grainState.ActivationId:N} is no longer the registered one ({entry?.ToString() ?? "no entry"}).");
        }
    }

    /// <summary>The number of stored records.</summary>
    public int Count => _states.Values.Sum(records => records.Count);

    /// <inheritdoc />
    public Task ReadStateAsync<TState>(string stateName, GrainId grainId, IGrainState<TState> grainState)
    {
        if (_states.TryGetValue(stateName, out RecordTable? records) && records.TryGet(grainId, out StoredRecord record))
        {
            grainState.State = Restore<TState>(record);
            grainState.ETag = record.ETag;
            grainState.RecordExists = true;
        }
        else
        {
            grainState.ETag = null;
            grainState.RecordExists = false;
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task WriteStateAsync<TState>(string stateName, GrainId grainId, IGrainState<TState> grainState)
    {
        CheckFence("write", stateName, grainId, grainState);
        object? stored = StateCopy<TState>.IsImmutable ? grainState.State : _serializer.Serialize(grainState.State);
        string etag = NextETag();
        if (!Records(stateName).TryWrite(grainId, grainState.ETag, new StoredRecord(stored, etag), out string? storedETag))
        {
            throw Conflict("write", stateName, grainId, storedETag, grainState.ETag);
        }

        grainState.ETag = etag;
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task ClearStateAsync<TState>(string stateName, GrainId grainId, IGrainState<TState> grainState)
    {
        CheckFence("clear", stateName, grainId, grainState);
        if (!Records(stateName).TryRemove(grainId, grainState.ETag, out string? storedETag))
        {
            throw Conflict("clear", stateName, grainId, storedETag, grainState.ETag);
        }

        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }

    private string NextETag() => Interlocked.Increment(ref _version).ToString(CultureInfo.InvariantCulture);

    private InconsistentStateException Conflict(string operation, string stateName, GrainId grainId, string? stored, string? current) =>
        new($"Storage '{_name}' refused to {operation} state '{stateName}' of grain {grainId}: the stored ETag is {stored ?? "(none)"} but the writer expected {current ?? "(none)"}; another activation changed it.",
            stored,
            current);

    private RecordTable Records(string stateName) => _states.GetOrAdd(stateName, static _ => new RecordTable());

    private TState Restore<TState>(StoredRecord record) =>
        StateCopy<TState>.IsImmutable ? (TState)record.Value! : _serializer.Deserialize<TState>((byte[])record.Value!);

    /// <summary>
    /// The stored state: the object itself for an immutable state type, else its serialized bytes. A
    /// struct held in the table's entry: one object less per grain.
    /// </summary>
    private readonly record struct StoredRecord(object? Value, string ETag);

    /// <summary>
    /// One state name's records, behind one lock. A write replaces its record in place: a
    /// <see cref="ConcurrentDictionary{TKey, TValue}"/> allocates a node for every update of a value wider than a
    /// pointer, an object per write that lived until the grain's next write. The lock is held for one lookup.
    /// </summary>
    private sealed class RecordTable
    {
        private readonly Lock _lock = new();
        private readonly Dictionary<GrainId, StoredRecord> _records = [];

        public int Count
        {
            get
            {
                lock (_lock)
                {
                    return _records.Count;
                }
            }
        }

        public bool TryGet(GrainId grainId, out StoredRecord record)
        {
            lock (_lock)
            {
                return _records.TryGetValue(grainId, out record);
            }
        }

        public KeyValuePair<GrainId, StoredRecord>[] Snapshot()
        {
            lock (_lock)
            {
                return [.. _records];
            }
        }

        /// <summary>Stores <paramref name="updated"/> if the stored ETag is <paramref name="expected"/> (none stored: null).</summary>
        /// <returns>False, with the stored ETag, when it is not.</returns>
        public bool TryWrite(GrainId grainId, string? expected, StoredRecord updated, out string? storedETag)
        {
            lock (_lock)
            {
                ref StoredRecord slot = ref CollectionsMarshal.GetValueRefOrNullRef(_records, grainId);
                storedETag = Unsafe.IsNullRef(ref slot) ? null : slot.ETag;
                if (!string.Equals(storedETag, expected, StringComparison.Ordinal))
                {
                    return false;
                }

                if (Unsafe.IsNullRef(ref slot))
                {
                    _records.Add(grainId, updated);
                }
                else
                {
                    slot = updated;
                }

                return true;
            }
        }

        /// <summary>Removes the record if the stored ETag is <paramref name="expected"/> (none stored: null).</summary>
        /// <returns>False, with the stored ETag, when it is not.</returns>
        public bool TryRemove(GrainId grainId, string? expected, out string? storedETag)
        {
            lock (_lock)
            {
                storedETag = _records.TryGetValue(grainId, out StoredRecord existing) ? existing.ETag : null;
                if (!string.Equals(storedETag, expected, StringComparison.Ordinal))
                {
                    return false;
                }

                _records.Remove(grainId);
                return true;
            }
        }
    }

    /// <summary>Whether a state type may be kept by reference (looked up once per type).</summary>
    private static class StateCopy<TState>
    {
        public static readonly bool IsImmutable = typeof(TState).IsDefined(typeof(ImmutableAttribute), inherit: false);
    }
}
