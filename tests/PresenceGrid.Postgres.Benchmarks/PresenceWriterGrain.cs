namespace PresenceGrid.Postgres.Benchmarks;

/// <summary>A user-like grain whose every presence change is a durable write of its state.</summary>
public interface IPresenceWriterGrain : IGrainWithStringKey
{
    /// <summary>Records a presence change and returns once the storage has acknowledged it.</summary>
    /// <param name="presence">"online", "unavailable" or "offline".</param>
    /// <param name="statusMessage">The status message, if any.</param>
    /// <param name="nowMs">The change's time, in Unix milliseconds.</param>
    /// <returns>A task that completes after the write is durable.</returns>
    Task SetPresence(string presence, string? statusMessage, long nowMs);
}

/// <summary>About Synapse's UserPresenceState: a string state, three timestamps, a nullable status, a flag.</summary>
[GenerateSerializer]
public sealed class PresenceRecord
{
    [Id(0)]
    public string Presence { get; set; } = "offline";

    [Id(1)]
    public long LastActiveTs { get; set; }

    [Id(2)]
    public long LastFederationUpdateTs { get; set; }

    [Id(3)]
    public long LastUserSyncTs { get; set; }

    [Id(4)]
    public string? StatusMessage { get; set; }

    [Id(5)]
    public bool CurrentlyActive { get; set; }
}

public sealed class PresenceWriterGrain(
    [PersistentState("presence", PresenceWriterGrain.StorageName)] IPersistentState<PresenceRecord> state) : Grain, IPresenceWriterGrain
{
    /// <summary>The storage the benchmark registers, as either provider.</summary>
    public const string StorageName = "bench";

    public Task SetPresence(string presence, string? statusMessage, long nowMs)
    {
        PresenceRecord record = state.State;
        record.Presence = presence;
        record.StatusMessage = statusMessage;
        record.CurrentlyActive = presence == "online";
        record.LastUserSyncTs = nowMs;
        record.LastFederationUpdateTs = nowMs;
        if (record.CurrentlyActive)
        {
            record.LastActiveTs = nowMs;
        }

        return state.WriteStateAsync();
    }
}
