using PresenceGrid.Matrix;

namespace PresenceGrid.Replication;

/// <summary>What one replicated item tells the peer silo.</summary>
[GenerateSerializer, Alias("pg.ReplicaItemKind")]
internal enum ReplicaItemKind : byte
{
    /// <summary>A state the sending silo notified: the peer fans it out to its inboxes and rooms.</summary>
    State,

    /// <summary>The user joined the room (a room grain on the sending silo changed it).</summary>
    Joined,

    /// <summary>The user is no longer joined to the room.</summary>
    Left,

    /// <summary>The user was invited to or knocked on the room: the room's members syncing on the peer see it.</summary>
    InvitedOrKnocked,

    /// <summary>The user gets a full snapshot on its next sync on the peer.</summary>
    FullPresence,

    /// <summary>A mirrored user was handed back to the grid's timers without a notified change: the peer clears its mark.</summary>
    HandedBack,
}

/// <summary>One item of a silo's replication stream to a peer (immutable: shared by every peer's queue).</summary>
/// <param name="Kind">What the item tells.</param>
/// <param name="State">For <see cref="ReplicaItemKind.State"/> and <see cref="ReplicaItemKind.HandedBack"/>: the state (its user is the item's user).</param>
/// <param name="Subject">For the other kinds: the user.</param>
/// <param name="RoomId">For membership items: the room.</param>
/// <param name="Mirrored">
/// For <see cref="ReplicaItemKind.State"/>: the state was mirrored from the homeserver that owns the user
/// (<see cref="Fanout.PublishKind.Mirror"/>): the peer keeps the flag with its view of the user, and its dead-silo
/// takeover leaves the user alone (no grid timer runs for it).
/// </param>
[GenerateSerializer, Immutable, Alias("pg.ReplicaItem")]
internal sealed record ReplicaItem(
    [property: Id(0)] ReplicaItemKind Kind,
    [property: Id(1)] UserPresenceState? State,
    [property: Id(2)] UserId? Subject,
    [property: Id(3)] string? RoomId,
    [property: Id(4)] bool Mirrored = false)
{
    /// <summary>The user the item is about.</summary>
    public UserId User => State?.UserId ?? Subject!;

    /// <summary>A notified state; <paramref name="mirrored"/> when it was mirrored from the homeserver.</summary>
    public static ReplicaItem ForState(UserPresenceState state, bool mirrored = false) => new(ReplicaItemKind.State, state, null, null, mirrored);

    /// <summary>A joined-membership change.</summary>
    public static ReplicaItem ForMembership(string roomId, UserId user, bool joined) =>
        new(joined ? ReplicaItemKind.Joined : ReplicaItemKind.Left, null, user, roomId);

    /// <summary>An invite or a knock.</summary>
    public static ReplicaItem ForInviteOrKnock(string roomId, UserId user) => new(ReplicaItemKind.InvitedOrKnocked, null, user, roomId);

    /// <summary>The hand-back of a mirrored user to the grid's timers (<see cref="Fanout.PublishKind.HandedBack"/>).</summary>
    public static ReplicaItem ForHandedBack(UserPresenceState state) => new(ReplicaItemKind.HandedBack, state, null, null);

    /// <summary>A full-presence marker.</summary>
    public static ReplicaItem ForFullPresence(UserId user) => new(ReplicaItemKind.FullPresence, null, user, null);
}

/// <summary>
/// One replication message from a silo to a peer: the next items of the sender's ordered stream to that peer
/// (states, membership changes, invites and knocks, full-presence markers), applied by the peer in this order, after
/// the stream's previous messages (<see cref="Sequence"/>; see <see cref="ReplicaOutbox"/> and <see cref="ReplicaSequencer"/>).
/// </summary>
/// <param name="Sender">The sending silo (its generation included: a restarted sender starts a new stream).</param>
/// <param name="Sequence">The message's place in the sender's stream to this peer: 1, 2, 3… (a resent message keeps its number).</param>
/// <param name="Items">The items, oldest first.</param>
[GenerateSerializer, Immutable, Alias("pg.ReplicaBatch")]
internal sealed record ReplicaBatch(
    [property: Id(1)] SiloAddress Sender,
    [property: Id(2)] long Sequence,
    [property: Id(0)] ReplicaItem[] Items);
