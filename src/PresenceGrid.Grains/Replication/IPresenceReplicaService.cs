using System.Collections.Immutable;
using Orleans.Services;
using PresenceGrid.Matrix;

namespace PresenceGrid.Replication;

/// <summary>
/// The per-silo end of presence replication (an Orleans grain service, one per silo): every other silo sends it its
/// ordered replication stream (notified states, joined-membership changes, invites and knocks, full-presence
/// markers) as numbered <see cref="ReplicaBatch"/> messages, up to <see cref="ReplicaOutbox.Window"/> in flight per
/// sender, and it feeds each sender's messages, in their order, to this silo's fan-out (see <see cref="ReplicaOutbox"/>
/// and <see cref="ReplicaSequencer"/>).
/// </summary>
[Alias("pg.IPresenceReplicaService")]
internal interface IPresenceReplicaService : IGrainService
{
    /// <summary>Takes the next message of a peer's replication stream: applied in the stream's order.</summary>
    /// <param name="batch">The message.</param>
    /// <returns>
    /// A task that completes once the message is taken: handed to this silo's fan-out with every earlier one, held until
    /// an earlier one arrives, or recognised as a copy of one already taken. The sender's window then moves on.
    /// </returns>
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
