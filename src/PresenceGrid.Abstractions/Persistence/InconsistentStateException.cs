namespace PresenceGrid.Persistence;

/// <summary>
/// A write or clear of grain state was refused because the stored record changed since this
/// activation read it (its ETag is stale), or because this activation no longer owns the grain.
/// </summary>
public sealed class InconsistentStateException : PresenceGridException
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
