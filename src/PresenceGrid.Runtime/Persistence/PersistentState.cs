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

/// <summary>What the activations of one grain class share about one persistent state.</summary>
/// <param name="StateName">The state's name.</param>
/// <param name="Storage">Its storage provider.</param>
/// <param name="CreateDefault">Makes the state of a grain that has none stored.</param>
internal sealed record PersistentStateBinding<TState>(string StateName, IGrainStorage Storage, Func<TState> CreateDefault);

/// <summary>The <see cref="IPersistentState{TState}"/> given to a grain.</summary>
internal sealed class PersistentState<TState> : IPersistentState<TState>, IGrainState<TState>, IActivationStateLoader
{
    private readonly ActivationData _activation;
    private readonly PersistentStateBinding<TState> _binding;

    public PersistentState(ActivationData activation, PersistentStateBinding<TState> binding)
    {
        _activation = activation;
        _binding = binding;
        State = binding.CreateDefault();
    }

    public TState State { get; set; }

    public string? Etag => ETag;

    public string? ETag { get; set; }

    public bool RecordExists { get; set; }

    public Guid ActivationId => _activation.ActivationId;

    public Task LoadAsync() => ReadStateAsync();

    public async Task ReadStateAsync()
    {
        await _binding.Storage.ReadStateAsync(_binding.StateName, _activation.GrainId, this);
        if (!RecordExists)
        {
            State = _binding.CreateDefault();
        }
    }

    public async Task WriteStateAsync()
    {
        try
        {
            await _binding.Storage.WriteStateAsync(_binding.StateName, _activation.GrainId, this);
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
            await _binding.Storage.ClearStateAsync(_binding.StateName, _activation.GrainId, this);
        }
        catch (InconsistentStateException)
        {
            _activation.OnInconsistentState();
            throw;
        }

        State = _binding.CreateDefault();
    }
}
