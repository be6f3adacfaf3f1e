using Microsoft.Extensions.DependencyInjection;
using System.Globalization;
using System.Runtime.InteropServices;
using Orleans.Storage;

namespace PresenceGrid.Benchmarks.Presence;

/// <summary>
/// A grain storage that keeps each grain's state object in a dictionary of this silo, ETag-checked, without copying or
/// serializing it (the grid's stored record is immutable): what the old runtime's in-memory storage did, so that the
/// fan-out benchmark can be compared with its figures. Orleans' memory storage instead makes a call to a storage grain
/// per write and serializes the state (JSON by default).
/// </summary>
internal sealed class InProcessGrainStorage : IGrainStorage
{
    private readonly Dictionary<(string State, GrainId Grain), (long ETag, object? Value)> _records = [];

    public static void AddTo(ISiloBuilder silo)
    {
        silo.Services.AddKeyedSingleton<IGrainStorage, InProcessGrainStorage>("Default");
        silo.Services.AddSingleton(sp => sp.GetRequiredKeyedService<IGrainStorage>("Default"));
    }

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        lock (_records)
        {
            if (_records.TryGetValue((stateName, grainId), out var record))
            {
                grainState.State = (T)record.Value!;
                grainState.ETag = record.ETag.ToString(CultureInfo.InvariantCulture);
                grainState.RecordExists = true;
            }
        }

        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        lock (_records)
        {
            ref (long ETag, object? Value) record = ref CollectionsMarshal.GetValueRefOrAddDefault(_records, (stateName, grainId), out bool exists);
            string expected = exists ? record.ETag.ToString(CultureInfo.InvariantCulture) : "0";
            if (expected != (grainState.ETag ?? "0"))
            {
                if (!exists)
                {
                    _records.Remove((stateName, grainId));
                }

                throw new InconsistentStateException($"stale ETag for {grainId}", expected, grainState.ETag ?? "none");
            }

            record = (record.ETag + 1, grainState.State);
            grainState.ETag = record.ETag.ToString(CultureInfo.InvariantCulture);
            grainState.RecordExists = true;
        }

        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        lock (_records)
        {
            _records.Remove((stateName, grainId));
        }

        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }
}
