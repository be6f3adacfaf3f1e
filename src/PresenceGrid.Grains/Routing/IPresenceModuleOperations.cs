using PresenceGrid.Matrix;
using PresenceGrid.Modules;

namespace PresenceGrid.Routing;

/// <summary>
/// The seam between <see cref="ModuleApi"/> and the presence grains: the module API operations that change or push presence, and
/// the membership reads. The grain layer implements it; the arguments are already validated.
/// </summary>
internal interface IPresenceModuleOperations
{
    /// <summary>
    /// Synapse <c>send_local_online_presence_to</c>. For local recipients: record a full-presence marker (the next sync of each of
    /// their devices gets a snapshot) and wake them, without re-setting anybody's state (so, unlike Synapse, no <c>status_msg</c> is
    /// cleared). For each remote recipient R: compute the initial-sync view of R (router included, offline excluded), keep only local
    /// users' states, and queue them to R's server.
    /// </summary>
    /// <param name="userIds">Distinct recipients, in the caller's order.</param>
    Task SendLocalOnlinePresenceToAsync(IReadOnlyList<UserId> userIds);

    /// <summary>
    /// Synapse <c>set_presence_for_users</c>: copy each user's current state with the new presence and status, and commit it with
    /// force-notify; bypasses devices; works for remote users too.
    /// </summary>
    /// <param name="updates">User → new presence.</param>
    Task SetPresenceForUsersAsync(IReadOnlyDictionary<UserId, PresenceUpdate> updates);

    /// <summary>The joined members of a room, from this silo's membership index (every silo has the whole view).</summary>
    /// <param name="roomId">The room.</param>
    /// <returns>The members.</returns>
    IReadOnlyList<UserId> GetUsersInRoom(RoomId roomId);

    /// <summary>The rooms a user is joined to, from this silo's membership index.</summary>
    /// <param name="userId">The user.</param>
    /// <returns>The room ids.</returns>
    IReadOnlyList<string> GetRoomsForUser(UserId userId);
}
