namespace PresenceGrid.Cluster.Handshake;

/// <summary>
/// A client's record of the last gateway that refused its handshake. Orleans 10.4.2 reports a
/// connection whose middleware failed only as "timed out" (without the cause), so the handshake
/// leaves the cause here for <see cref="ClusterSecretRetryFilter"/>.
/// </summary>
internal sealed class ClusterSecretRefusals
{
    private ClusterSecretHandshakeException? _last;

    /// <summary>Records a refusal.</summary>
    /// <param name="refusal">What the handshake threw.</param>
    public void Record(ClusterSecretHandshakeException refusal) => Volatile.Write(ref _last, refusal);

    /// <summary>Takes the refusal recorded since the last call, if any.</summary>
    /// <returns>The refusal, or null.</returns>
    public ClusterSecretHandshakeException? Take() => Interlocked.Exchange(ref _last, null);
}
