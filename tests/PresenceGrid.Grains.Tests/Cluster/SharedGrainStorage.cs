using System.Collections.Concurrent;
using System.Globalization;
using Orleans.Serialization;
using Orleans.Storage;
using PresenceGrid.Persistence;

namespace PresenceGrid.Grains.Tests;

/// <summary>
/// The durable store of an in-process test cluster: one dictionary every silo of the test writes through (as every silo
/// of a real cluster writes to one PostgreSQL), so a killed silo's acknowledged writes outlive it. ETag-checked like a
/// real provider, with the scan a starting silo rebuilds its view from. Orleans' memory storage cannot play this part:
/// it keeps state in grains of the cluster, which die with their silo.
/// </summary>
internal sealed class SharedGrainStore
{
    private readonly ConcurrentDictionary<(string Type, string Key, string State), (long ETag, byte[] Payload)> _records = new();

    /// <summary>Wraps each silo's storage of this store (a test's hook on reads and writes), if set.</summary>
    public Func<IGrainStorage, IGrainStorage>? Wrap { get; init; }

    /// <summary>Registers this store as the silo's <c>Default</c> grain storage and its state scan.</summary>
    public void AddTo(ISiloBuilder silo)
    {
        silo.Services.AddSingleton(sp => new Storage(this, sp.GetRequiredService<Serializer>()));
        silo.Services.AddKeyedSingleton<IGrainStorage>("Default", (sp, _) => Wrap is { } wrap ? wrap(sp.GetRequiredService<Storage>()) : sp.GetRequiredService<Storage>());
        silo.Services.AddSingleton(sp => sp.GetRequiredKeyedService<IGrainStorage>("Default"));
        silo.Services.AddSingleton<IGrainStateScan>(sp => sp.GetRequiredService<Storage>());
    }

    private sealed class Storage(SharedGrainStore store, Serializer serializer) : IGrainStorage, IGrainStateScan
    {
        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            if (store._records.TryGetValue(Key(stateName, grainId), out var record))
            {
                grainState.State = serializer.Deserialize<T>(record.Payload);
                grainState.ETag = record.ETag.ToString(CultureInfo.InvariantCulture);
                grainState.RecordExists = true;
            }

            return Task.CompletedTask;
        }

        public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            var key = Key(stateName, grainId);
            byte[] payload = serializer.SerializeToArray(grainState.State);
            lock (store._records)
            {
                long current = store._records.TryGetValue(key, out var record) ? record.ETag : 0;
                if (current.ToString(CultureInfo.InvariantCulture) != (grainState.ETag ?? "0"))
                {
                    throw new InconsistentStateException($"stale ETag for {grainId}", current.ToString(CultureInfo.InvariantCulture), grainState.ETag ?? "none");
                }

                store._records[key] = (current + 1, payload);
                grainState.ETag = (current + 1).ToString(CultureInfo.InvariantCulture);
                grainState.RecordExists = true;
            }

            return Task.CompletedTask;
        }

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            store._records.TryRemove(Key(stateName, grainId), out _);
            grainState.ETag = null;
            grainState.RecordExists = false;
            return Task.CompletedTask;
        }

        public Task<IReadOnlyList<KeyValuePair<string, T>>> ReadAllAsync<T>(string stateName, GrainType grainType, CancellationToken cancellationToken)
        {
            string type = grainType.ToString()!;
            IReadOnlyList<KeyValuePair<string, T>> states = [.. store._records
                .Where(r => r.Key.Type == type && r.Key.State == stateName)
                .Select(r => new KeyValuePair<string, T>(r.Key.Key, serializer.Deserialize<T>(r.Value.Payload)!))];
            return Task.FromResult(states);
        }

        private static (string, string, string) Key(string stateName, GrainId grainId) => (grainId.Type.ToString()!, grainId.Key.ToString()!, stateName);
    }
}
