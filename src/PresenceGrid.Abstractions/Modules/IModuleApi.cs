using Microsoft.Extensions.Logging;
using PresenceGrid.Matrix;

namespace PresenceGrid.Modules;

/// <summary>
/// What a module may do with the presence service (the presence part of Synapse's <c>ModuleApi</c>). Each module instance gets its own
/// instance, passed to its constructor.
/// </summary>
public interface IModuleApi
{
    /// <summary>The server names this deployment serves (the first is the primary one).</summary>
    IReadOnlyCollection<ServerName> LocalServerNames { get; }

    /// <summary>The logger factory of the host; create loggers for the module from it.</summary>
    ILoggerFactory LoggerFactory { get; }

    /// <summary>The clock of the host. Use it instead of <see cref="DateTime.UtcNow"/> so the module can be tested with a manual clock.</summary>
    TimeProvider TimeProvider { get; }

    /// <summary>
    /// Registers presence router callbacks (Synapse <c>register_presence_router_callbacks</c>). Call it from the module's constructor.
    /// Register both callbacks, or neither: registering exactly one stops start-up with a <see cref="ModuleLoadException"/> naming the module.
    /// Callbacks run in registration order: <c>modules:</c> entries in configuration order, then the legacy <c>presence.presence_router</c>.
    /// </summary>
    /// <param name="getUsersForStates">Who should additionally receive a batch of updates.</param>
    /// <param name="getInterestedUsers">Which users a local user additionally wants presence for.</param>
    /// <exception cref="ModuleLoadException">Exactly one of the two callbacks was given.</exception>
    /// <exception cref="InvalidOperationException">Start-up is over; callbacks can no longer be registered.</exception>
    void RegisterPresenceRouterCallbacks(
        GetUsersForStatesCallback? getUsersForStates = null,
        GetInterestedUsersCallback? getInterestedUsers = null);

    /// <summary>
    /// Registers a callback that replaces the room-based recipients of chosen senders (beyond Synapse, synapse#10423). Off unless registered.
    /// </summary>
    /// <param name="replaceRoomRecipients">The callback.</param>
    /// <exception cref="InvalidOperationException">Start-up is over; callbacks can no longer be registered.</exception>
    void RegisterRoomRecipientsReplacement(ReplaceRoomRecipientsCallback replaceRoomRecipients);

    /// <summary>
    /// Sends the current presence of local online (and unavailable, busy) users to the given users, local or remote, as an
    /// "initial sync" view (Synapse <c>send_local_online_presence_to</c>). Offline users are not included.
    /// Unlike Synapse, nobody's status message is cleared, and remote recipients only ever receive local users' states.
    /// </summary>
    /// <param name="userIds">The recipients (full MXIDs); duplicates are ignored.</param>
    /// <returns>A task that completes when the snapshot has been recorded and queued.</returns>
    /// <exception cref="ArgumentException">A user id is not a valid MXID.</exception>
    Task SendLocalOnlinePresenceToAsync(IEnumerable<string> userIds);

    /// <summary>
    /// Forces the presence and status message of users, local or remote, bypassing devices, and notifies everyone interested
    /// (Synapse <c>set_presence_for_users</c>; the input for <c>presence.enabled: untracked</c>).
    /// </summary>
    /// <param name="updates">User id (full MXID) → its new presence.</param>
    /// <returns>A task that completes when the states are committed.</returns>
    /// <exception cref="ArgumentException">A user id is invalid, an update is null or its state is not a defined <see cref="PresenceState"/>.</exception>
    Task SetPresenceForUsersAsync(IReadOnlyDictionary<string, PresenceUpdate> updates);

    /// <summary>Whether the user belongs to this deployment (its server is one of <see cref="LocalServerNames"/>).</summary>
    /// <param name="userId">The user.</param>
    /// <returns><see langword="true"/> for a local user.</returns>
    bool IsMine(UserId userId);
}
