using PresenceGrid.Persistence;
using PresenceGrid.Runtime.Catalog;

namespace PresenceGrid.Runtime.Persistence;

/// <summary>The well-known storage provider names.</summary>
public static class GrainStorageNames
{
    /// <summary>The provider used when <see cref="PersistentStateAttribute.StorageName"/> is not given.</summary>
    public const string Default = "Default";
}

/// <summary>State the activation loads before <see cref="Grain.OnActivateAsync"/>.</summary>
internal interface IActivationStateLoader
{
    Task LoadAsync();
}

/// <summary>The <see cref="IPersistentState{TState}"/> given to a grain.</summary>
internal sealed class PersistentState<TState> : IPersistentState<TState>, IGrainState<TState>, IActivationStateLoader
{
    private readonly ActivationData _activation;
    private readonly string _stateName;
    private readonly IGrainStorage _storage;
    private readonly Func<TState> _createDefault;

    public PersistentState(ActivationData activation, string stateName, IGrainStorage storage, Func<TState> createDefault)
    {
        _activation = activation;
        _stateName = stateName;
        _storage = storage;
        _createDefault = createDefault;
        State = createDefault();
    }

    public TState State { get; set; }

    public string? Etag => ETag;

    public string? ETag { get; set; }

    public bool RecordExists { get; set; }

    public Guid ActivationId => _activation.ActivationId;

    public Task LoadAsync() => ReadStateAsync();

    public async Task ReadStateAsync()
    {
        await _storage.ReadStateAsync(_stateName, _activation.GrainId, this);
        if (!RecordExists)
        {
            State = _createDefault();
        }
    }

    public async Task WriteStateAsync()
    {
        try
        {
            await _storage.WriteStateAsync(_stateName, _activation.GrainId, this);
        }
        catch (InconsistentStateException)
        {
            _activation.OnInconsistentState();
            throw;
        }
    }

    public async Task ClearStateAsync()
    {
        try
        {
            await _storage.ClearStateAsync(_stateName, _activation.GrainId, this);
        }
        catch (InconsistentStateException)
        {
            _activation.OnInconsistentState();
            throw;
        }

        State = _createDefault();
    }
}
