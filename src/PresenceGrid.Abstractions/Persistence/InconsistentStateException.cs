namespace PresenceGrid.Persistence;

/// <summary>
/// A write or clear of grain state was refused because the stored record changed since this
/// activation read it (its ETag is stale), or because this activation no longer owns the grain.
/// </summary>
public class InconsistentStateException : PresenceGridException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was refused, naming grain and state.</param>
    /// <param name="storedEtag">The ETag in storage.</param>
    /// <param name="currentEtag">The ETag the writer expected.</param>
    public InconsistentStateException(string message, string? storedEtag, string? currentEtag)
        : base(message)
    {
        StoredEtag = storedEtag;
        CurrentEtag = currentEtag;
    }

    /// <summary>The ETag in storage.</summary>
    public string? StoredEtag { get; }

    /// <summary>The ETag the writer expected.</summary>
    public string? CurrentEtag { get; }
}

/// <summary>
/// A write was refused because the writing activation is no longer the one registered in the grain
/// directory (another silo took the grain over). The activation must stop without retrying.
/// </summary>
public sealed class GrainStateFencedException : InconsistentStateException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was refused, naming grain and state.</param>
    public GrainStateFencedException(string message)
        : base(message, storedEtag: null, currentEtag: null)
    {
    }
}

/// <summary>
/// Grain storage that can list every record of one state of one grain type (to rebuild read models
/// such as room memberships when a silo starts).
/// </summary>
public interface IGrainStorageScan
{
    /// <summary>Reads every stored record of <paramref name="stateName"/> for grains of <paramref name="grainType"/>.</summary>
    /// <typeparam name="TState">The state type.</typeparam>
    /// <param name="stateName">The state's name.</param>
    /// <param name="grainType">The grain type (the part of <see cref="GrainId"/> before the key).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Grain id and state of each record.</returns>
    Task<IReadOnlyList<KeyValuePair<GrainId, TState>>> ReadAllAsync<TState>(string stateName, string grainType, CancellationToken cancellationToken);
}
