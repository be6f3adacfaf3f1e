using Orleans.Services;

namespace PresenceGrid.Replication;

/// <summary>
/// The per-silo end of presence replication (an Orleans grain service, one per silo): every other silo sends it its
/// ordered replication stream (notified states, joined-membership changes, invites and knocks, full-presence
/// markers) as <see cref="ReplicaBatch"/> messages, at most one in flight per sender, and it feeds them, in order, to
/// this silo's fan-out (see <see cref="ReplicaOutbox"/>).
/// </summary>
[Alias("pg.IPresenceReplicaService")]
internal interface IPresenceReplicaService : IGrainService
{
    /// <summary>Applies the next items of a peer's replication stream, in order.</summary>
    /// <param name="batch">The items.</param>
    /// <returns>A task that completes once the items are handed to this silo's fan-out: the sender then sends its next batch.</returns>
    [Alias("ApplyBatch")]
    Task ApplyBatch(ReplicaBatch batch);
}
