using System.Collections.Immutable;
using Orleans.Services;
using PresenceGrid.Matrix;

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

    /// <summary>
    /// Applies states mirrored from the homeserver (<c>POST /v1/ingest/states</c>) to users this silo owns, one per user,
    /// as the ingest silo grouped them (see <see cref="Grains.MirrorIngest"/>).
    /// </summary>
    /// <param name="states">The states.</param>
    /// <returns>A task that completes once each state is applied and stored.</returns>
    [Alias("MirrorStates")]
    Task MirrorStates(ImmutableArray<UserPresenceState> states);
}
