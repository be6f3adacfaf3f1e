namespace PresenceGrid.Persistence;

/// <summary>
/// A grain's durable state, injected into the grain's constructor with
/// <see cref="PersistentStateAttribute"/>. It is read before <see cref="Grain.OnActivateAsync"/>;
/// it is written only when the grain asks.
/// </summary>
/// <typeparam name="TState">The state type.</typeparam>
public interface IPersistentState<TState>
{
    /// <summary>The state.</summary>
    TState State { get; set; }

    /// <summary>The version of the stored record; null when none was read or written.</summary>
    string? Etag { get; }

    /// <summary>True when a record exists in storage.</summary>
    bool RecordExists { get; }

    /// <summary>Reads the stored state, replacing <see cref="State"/>.</summary>
    /// <returns>A task.</returns>
    Task ReadStateAsync();

    /// <summary>Writes <see cref="State"/>.</summary>
    /// <returns>A task.</returns>
    /// <exception cref="InconsistentStateException">When the stored record changed since it was read.</exception>
    Task WriteStateAsync();

    /// <summary>Deletes the stored record and resets <see cref="State"/>.</summary>
    /// <returns>A task.</returns>
    /// <exception cref="InconsistentStateException">When the stored record changed since it was read.</exception>
    Task ClearStateAsync();
}

/// <summary>Marks a grain constructor parameter of type <see cref="IPersistentState{TState}"/>.</summary>
[AttributeUsage(AttributeTargets.Parameter)]
public sealed class PersistentStateAttribute : Attribute
{
    /// <summary>Declares a persistent state.</summary>
    /// <param name="stateName">The state's name, unique within the grain.</param>
    /// <param name="storageName">The storage provider's name; null for <c>Default</c>.</param>
    public PersistentStateAttribute(string stateName, string? storageName = null)
    {
        StateName = stateName;
        StorageName = storageName;
    }

    /// <summary>The state's name.</summary>
    public string StateName { get; }

    /// <summary>The storage provider's name; null for <c>Default</c>.</summary>
    public string? StorageName { get; }
}

/// <summary>The state record a storage provider reads and writes.</summary>
/// <typeparam name="TState">The state type.</typeparam>
public interface IGrainState<TState>
{
    /// <summary>The state.</summary>
    TState State { get; set; }

    /// <summary>The stored record's version; null when there is none.</summary>
    string? ETag { get; set; }

    /// <summary>True when a record exists.</summary>
    bool RecordExists { get; set; }

    /// <summary>
    /// The activation that reads and writes the state. Cluster storage fences writes with it: only
    /// the activation registered in the grain directory may write. <see cref="Guid.Empty"/> when
    /// the caller is not an activation (no fence).
    /// </summary>
    Guid ActivationId => Guid.Empty;
}

/// <summary>
/// A grain storage provider, registered by name. Writes and clears are optimistic: they succeed
/// only when <see cref="IGrainState{TState}.ETag"/> equals the stored version, and otherwise throw
/// <see cref="InconsistentStateException"/>.
/// </summary>
public interface IGrainStorage
{
    /// <summary>Reads the state of <paramref name="grainId"/> into <paramref name="grainState"/>.</summary>
    /// <typeparam name="TState">The state type.</typeparam>
    /// <param name="stateName">The state's name.</param>
    /// <param name="grainId">The grain.</param>
    /// <param name="grainState">Receives state, ETag and existence.</param>
    /// <returns>A task.</returns>
    Task ReadStateAsync<TState>(string stateName, GrainId grainId, IGrainState<TState> grainState);

    /// <summary>Writes the state if the stored ETag matches, then sets the new ETag.</summary>
    /// <typeparam name="TState">The state type.</typeparam>
    /// <param name="stateName">The state's name.</param>
    /// <param name="grainId">The grain.</param>
    /// <param name="grainState">The state and the expected ETag.</param>
    /// <returns>A task.</returns>
    Task WriteStateAsync<TState>(string stateName, GrainId grainId, IGrainState<TState> grainState);

    /// <summary>Deletes the record if the stored ETag matches.</summary>
    /// <typeparam name="TState">The state type.</typeparam>
    /// <param name="stateName">The state's name.</param>
    /// <param name="grainId">The grain.</param>
    /// <param name="grainState">The expected ETag.</param>
    /// <returns>A task.</returns>
    Task ClearStateAsync<TState>(string stateName, GrainId grainId, IGrainState<TState> grainState);
}
