using PresenceGrid.Persistence;

namespace PresenceGrid.Grains.Tests;

/// <summary>A user grain's stored record, read straight from the grain storage.</summary>
internal sealed class StoredPresence : IGrainState<PresenceRecord>
{
    public PresenceRecord State { get; set; } = new();

    public string? ETag { get; set; }

    public bool RecordExists { get; set; }
}
