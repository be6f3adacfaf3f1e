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

    /// <summary>
    /// An HTTP client for the module's own calls (Synapse <c>ModuleApi.http_client</c>), shared by every module: connections are
    /// pooled and recycled. Do not dispose it or change its defaults; set headers and timeouts per request.
    /// </summary>
    HttpClient HttpClient { get; }

    /// <summary>
    /// A full user id from a localpart or a user id (Synapse <c>get_qualified_user_id</c>): a value starting with <c>@</c> is taken
    /// as a user id, anything else as a localpart on the primary server name (the first of <see cref="LocalServerNames"/>).
    /// </summary>
    /// <param name="username">A localpart (<c>alice</c>) or a user id (<c>@alice:example.org</c>).</param>
    /// <returns>The user id.</returns>
    /// <exception cref="ArgumentException">The result is not a valid Matrix user id.</exception>
    UserId GetQualifiedUserId(string username);

    /// <summary>
    /// The users joined to a room, local and remote (Synapse's <c>get_users_in_room</c>, the joined part of <c>get_room_state</c>), as
    /// the grid knows them from the membership feed (<c>PUT /v1/rooms/{roomId}/members/{userId}</c>). Rooms in
    /// <c>exclude_rooms_from_presence</c> are included: this is membership, not presence routing. Unknown room: empty.
    /// </summary>
    /// <param name="roomId">The room id (<c>!abc:example.org</c>).</param>
    /// <returns>The joined members, in no particular order.</returns>
    /// <exception cref="ArgumentException"><paramref name="roomId"/> is not a valid room id.</exception>
    Task<IReadOnlyList<UserId>> GetUsersInRoomAsync(string roomId);

    /// <summary>
    /// The rooms a user is joined to (Synapse's <c>get_rooms_for_user</c>), from the same membership feed; excluded rooms included.
    /// </summary>
    /// <param name="userId">The user, local or remote.</param>
    /// <returns>The room ids, in no particular order; empty for a user in no room.</returns>
    Task<IReadOnlyList<string>> GetRoomsForUserAsync(UserId userId);

    /// <summary>
    /// Runs <paramref name="callback"/> every <paramref name="interval"/> on the host's <see cref="TimeProvider"/> (Synapse
    /// <c>looping_background_call</c>): first after one interval, then one interval after each run finished, so runs never overlap.
    /// A run that throws is logged and the loop goes on. The token is cancelled when the silo stops; the loop stops then, or when the
    /// returned handle is disposed.
    /// </summary>
    /// <param name="callback">The work; it gets the silo's stopping token.</param>
    /// <param name="interval">The period; greater than zero.</param>
    /// <returns>A handle that stops the loop when disposed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="interval"/> is not positive.</exception>
    IDisposable LoopingBackgroundCall(Func<CancellationToken, Task> callback, TimeSpan interval);

    /// <summary>
    /// Runs <paramref name="callback"/> once after <paramref name="delay"/> on the host's <see cref="TimeProvider"/> (Synapse
    /// <c>delayed_background_call</c>); a failure is logged. Disposing the handle before it ran cancels it.
    /// </summary>
    /// <param name="delay">The delay; zero or more.</param>
    /// <param name="callback">The work; it gets the silo's stopping token.</param>
    /// <returns>A handle that cancels the call when disposed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delay"/> is negative.</exception>
    IDisposable DelayedBackgroundCall(TimeSpan delay, Func<CancellationToken, Task> callback);

    /// <summary>Whether the user belongs to this deployment (its server is one of <see cref="LocalServerNames"/>).</summary>
    /// <param name="userId">The user.</param>
    /// <returns><see langword="true"/> for a local user.</returns>
    bool IsMine(UserId userId);
}
