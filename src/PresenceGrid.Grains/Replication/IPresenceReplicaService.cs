using Orleans.Concurrency;
using Orleans.Services;
using PresenceGrid.Matrix;

namespace PresenceGrid.Replication;

/// <summary>
/// The per-silo end of presence replication (an Orleans grain service, one per silo): the other silos send it
/// their fan-out batches of notified states, joined-membership changes and full-presence markers, one message per
/// silo per batch, and it feeds them to this silo's fan-out. All one-way: a slow or dying silo never holds up the
/// sender's fan-out.
/// </summary>
[Alias("pg.IPresenceReplicaService")]
public interface IPresenceReplicaService : IGrainService
{
    /// <summary>A batch of states the sending silo notified, for this silo's inboxes and rooms.</summary>
    /// <param name="states">The states, in the order the sender published them.</param>
    /// <returns>A task (one-way).</returns>
    [OneWay, Alias("ApplyStates")]
    Task ApplyStates(UserPresenceState[] states);

    /// <summary>A joined-membership change a room grain on the sending silo made.</summary>
    /// <param name="roomId">The room.</param>
    /// <param name="userId">The user.</param>
    /// <param name="joined">Joined (true) or no longer joined.</param>
    /// <returns>A task (one-way).</returns>
    [OneWay, Alias("ApplyMembership")]
    Task ApplyMembership(string roomId, UserId userId, bool joined);

    /// <summary>These users get a full snapshot on their next sync.</summary>
    /// <param name="users">The users.</param>
    /// <returns>A task (one-way).</returns>
    [OneWay, Alias("ApplyFullPresence")]
    Task ApplyFullPresence(UserId[] users);
}
