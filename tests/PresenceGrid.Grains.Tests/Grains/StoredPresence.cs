using System.Diagnostics.CodeAnalysis;
using Orleans.Storage;

namespace PresenceGrid.Grains.Tests;

/// <summary>A user grain's stored record, read straight from the grain storage.</summary>
internal sealed class StoredPresence : IGrainState<PresenceRecord>
{
    private PresenceRecord _state = new();

    [AllowNull]
    public PresenceRecord State
    {
        get => _state;
        set => _state = value ?? new();
    }

    public string? ETag { get; set; }

    public bool RecordExists { get; set; }

    /// <summary>The silo's default grain storage.</summary>
    public static IGrainStorage Storage(IServiceProvider services) => services.GetRequiredKeyedService<IGrainStorage>("Default");

    /// <summary>Reads the user's stored record.</summary>
    public static async Task<StoredPresence> ReadAsync(IServiceProvider services, string user)
    {
        var read = new StoredPresence();
        await Storage(services).ReadStateAsync(UserPresenceGrain.StateName, GrainId.Create(UserPresenceGrain.GrainTypeName, user), read);
        return read;
    }
}
