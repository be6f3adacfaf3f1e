using System.Collections.Concurrent;
using System.Globalization;
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
    // One table per state name: the grain id alone keys a record, so each node is smaller.
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<GrainId, StoredRecord>> _states = new(StringComparer.Ordinal);
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
        if (_states.TryGetValue(stateName, out ConcurrentDictionary<GrainId, StoredRecord>? records))
        {
            foreach ((GrainId grainId, StoredRecord record) in records)
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
        if (_states.TryGetValue(stateName, out ConcurrentDictionary<GrainId, StoredRecord>? records) && records.TryGetValue(grainId, out StoredRecord record))
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
        ConcurrentDictionary<GrainId, StoredRecord> records = Records(stateName);
        object? stored = StateCopy<TState>.IsImmutable ? grainState.State : _serializer.Serialize(grainState.State);
        var updated = new StoredRecord(stored, NextETag());
        while (true)
        {
            if (records.TryGetValue(grainId, out StoredRecord existing))
            {
                if (!string.Equals(existing.ETag, grainState.ETag, StringComparison.Ordinal))
                {
                    throw Conflict("write", stateName, grainId, existing.ETag, grainState.ETag);
                }

                if (!records.TryUpdate(grainId, updated, existing))
                {
                    continue;
                }
            }
            else
            {
                if (grainState.ETag is not null)
                {
                    throw Conflict("write", stateName, grainId, null, grainState.ETag);
                }

                if (!records.TryAdd(grainId, updated))
                {
                    continue;
                }
            }

            grainState.ETag = updated.ETag;
            grainState.RecordExists = true;
            return Task.CompletedTask;
        }
    }

    /// <inheritdoc />
    public Task ClearStateAsync<TState>(string stateName, GrainId grainId, IGrainState<TState> grainState)
    {
        CheckFence("clear", stateName, grainId, grainState);
        ConcurrentDictionary<GrainId, StoredRecord> records = Records(stateName);
        if (records.TryGetValue(grainId, out StoredRecord existing))
        {
            if (!string.Equals(existing.ETag, grainState.ETag, StringComparison.Ordinal))
            {
                throw Conflict("clear", stateName, grainId, existing.ETag, grainState.ETag);
            }

            if (!records.TryRemove(new KeyValuePair<GrainId, StoredRecord>(grainId, existing)))
            {
                throw Conflict("clear", stateName, grainId, "(changed concurrently)", grainState.ETag);
            }
        }
        else if (grainState.ETag is not null)
        {
            throw Conflict("clear", stateName, grainId, null, grainState.ETag);
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

    private ConcurrentDictionary<GrainId, StoredRecord> Records(string stateName) =>
        _states.GetOrAdd(stateName, static _ => new ConcurrentDictionary<GrainId, StoredRecord>());

    private TState Restore<TState>(StoredRecord record) =>
        StateCopy<TState>.IsImmutable ? (TState)record.Value! : _serializer.Deserialize<TState>((byte[])record.Value!);

    /// <summary>
    /// The stored state: the object itself for an immutable state type, else its serialized bytes. A
    /// struct held in the dictionary's node: one object less per grain.
    /// </summary>
    private readonly record struct StoredRecord(object? Value, string ETag);

    /// <summary>Whether a state type may be kept by reference (looked up once per type).</summary>
    private static class StateCopy<TState>
    {
        public static readonly bool IsImmutable = typeof(TState).IsDefined(typeof(ImmutableAttribute), inherit: false);
    }
}
