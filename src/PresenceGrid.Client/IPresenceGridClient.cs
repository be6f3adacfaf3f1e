namespace PresenceGrid.Client;

/// <summary>
/// The PresenceGrid frontend operations, whatever the transport: <see cref="PresenceGridClient"/> speaks the HTTP/JSON API,
/// <c>OrleansPresenceGridClient</c> (package <c>PresenceGrid.Client.Orleans</c>) calls the grid through an Orleans gateway.
/// Both validate the same way, answer the same models and throw the same typed errors.
/// </summary>
/// <remarks>
/// An error answer from the grid is thrown as a <see cref="PresenceGridApiException"/> carrying the Matrix <c>errcode</c>
/// and a message naming the bad field: <see cref="PresenceGridRateLimitedException"/> when rate limited,
/// <see cref="PresenceGridForbiddenException"/> when not allowed, <see cref="PresenceGridUnavailableException"/> when no
/// silo could be reached. Caller mistakes that need no server (an empty id, a limit out of range) throw
/// <see cref="ArgumentException"/>.
/// </remarks>
public interface IPresenceGridClient
{
    /// <summary>Sets a user's presence.</summary>
    /// <param name="userId">The (local) user, for example <c>@alice:example.org</c>.</param>
    /// <param name="presence">The new presence state.</param>
    /// <param name="statusMsg">The status message, or <see langword="null"/> to send none.</param>
    /// <param name="deviceId">The device that set it, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the grid accepted the change.</returns>
    /// <exception cref="PresenceGridApiException">The grid answered with an error, or could not be reached.</exception>
    Task SetPresenceAsync(string userId, PresenceState presence, string? statusMsg = null, string? deviceId = null, CancellationToken cancellationToken = default);

    /// <summary>Gets a user's presence as <paramref name="requester"/> may see it.</summary>
    /// <param name="userId">The user whose presence is read.</param>
    /// <param name="requester">The user asking, for visibility checks (required by the grid).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The <c>m.presence</c> content.</returns>
    /// <exception cref="PresenceGridApiException">The grid answered with an error, or could not be reached.</exception>
    Task<PresenceContent> GetPresenceAsync(string userId, string? requester = null, CancellationToken cancellationToken = default);

    /// <summary>Reports that a device started syncing.</summary>
    /// <param name="userId">The user.</param>
    /// <param name="deviceId">The device.</param>
    /// <param name="setPresence">The <c>set_presence</c> of the sync (online, unavailable or offline), or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the grid accepted the change.</returns>
    /// <exception cref="PresenceGridApiException">The grid answered with an error, or could not be reached.</exception>
    Task StartSyncingAsync(string userId, string deviceId, PresenceState? setPresence = null, CancellationToken cancellationToken = default);

    /// <summary>Reports that a device stopped syncing.</summary>
    /// <param name="userId">The user.</param>
    /// <param name="deviceId">The device.</param>
    /// <param name="setPresence">Ignored by the grid for a stop; kept for symmetry with <see cref="StartSyncingAsync"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the grid accepted the change.</returns>
    /// <exception cref="PresenceGridApiException">The grid answered with an error, or could not be reached.</exception>
    Task StopSyncingAsync(string userId, string deviceId, PresenceState? setPresence = null, CancellationToken cancellationToken = default);

    /// <summary>Marks a device as active now.</summary>
    /// <param name="userId">The user.</param>
    /// <param name="deviceId">The device.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the grid accepted it.</returns>
    /// <exception cref="PresenceGridApiException">The grid answered with an error, or could not be reached.</exception>
    Task MarkActiveAsync(string userId, string deviceId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Renews a syncing device's lease: the device's sync is still open. Without a renewal, a device that started syncing
    /// stops counting as syncing 5 minutes after its start or last renewal. Not activity; a no-op for a device that is not syncing.
    /// </summary>
    /// <param name="userId">The user.</param>
    /// <param name="deviceId">The device.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the grid accepted it.</returns>
    /// <exception cref="PresenceGridApiException">The grid answered with an error, or could not be reached.</exception>
    Task KeepAliveAsync(string userId, string deviceId, CancellationToken cancellationToken = default);

    /// <summary>Gets the presence events a user should see, long-polling when <paramref name="timeout"/> is set.</summary>
    /// <param name="userId">The syncing user.</param>
    /// <param name="since">The <see cref="SyncBatch.NextBatch"/> of the previous sync, or <see langword="null"/> for an initial sync.</param>
    /// <param name="fullState">Whether to return the full state instead of changes; false when null.</param>
    /// <param name="timeout">How long the grid may wait for new events; no wait when null.</param>
    /// <param name="deviceId">The syncing device, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The batch of events and the token to continue from.</returns>
    /// <exception cref="PresenceGridApiException">The grid answered with an error, or could not be reached.</exception>
    Task<SyncBatch> SyncAsync(
        string userId, string? since = null, bool? fullState = null, TimeSpan? timeout = null, string? deviceId = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Streams a user's presence batches as they arrive, for as long as the caller enumerates: first the batch after
    /// <paramref name="since"/> (events or not), then every batch with events. A dropped connection is resumed from the
    /// last yielded <see cref="SyncBatch.NextBatch"/>, so no batch is lost or duplicated; an error answer ends the
    /// enumeration with a <see cref="PresenceGridApiException"/>.
    /// </summary>
    /// <param name="userId">The watching user.</param>
    /// <param name="since">The token to start after, or <see langword="null"/> to start from the current state.</param>
    /// <param name="cancellationToken">Stops the stream (with an <see cref="OperationCanceledException"/>).</param>
    /// <returns>The batches, in order.</returns>
    IAsyncEnumerable<SyncBatch> WatchAsync(string userId, string? since = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Streams a user's presence batches like <see cref="WatchAsync(string, string?, CancellationToken)"/>; with a
    /// <paramref name="deviceId"/>, the open watch also counts as that device's open sync: each (re)connection starts the
    /// device's sync, its lease is renewed every <see cref="PresenceGridClientOptions.SyncKeepAliveInterval"/>, and the
    /// sync is stopped when the enumeration ends.
    /// </summary>
    /// <param name="userId">The watching user.</param>
    /// <param name="since">The token to start after, or <see langword="null"/> to start from the current state.</param>
    /// <param name="deviceId">The device whose sync the watch is, or <see langword="null"/> for a watch that does not affect presence.</param>
    /// <param name="cancellationToken">Stops the stream.</param>
    /// <returns>The batches, in order.</returns>
    IAsyncEnumerable<SyncBatch> WatchAsync(string userId, string? since, string? deviceId, CancellationToken cancellationToken = default);

    /// <summary>Sets a user's membership of a room, as the homeserver reports it.</summary>
    /// <param name="roomId">The room, for example <c>!abc:example.org</c>.</param>
    /// <param name="userId">The user.</param>
    /// <param name="membership">The membership.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the grid accepted the change.</returns>
    /// <exception cref="PresenceGridApiException">The grid answered with an error, or could not be reached.</exception>
    Task SetMembershipAsync(string roomId, string userId, Membership membership, CancellationToken cancellationToken = default);

    /// <summary>Delivers an <c>m.presence</c> EDU received from a remote server. Items the grid rejects are returned; the others were applied.</summary>
    /// <param name="origin">The server the EDU came from, for example <c>remote.example</c>.</param>
    /// <param name="push">The presence updates of the EDU.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The rejected items (index into <paramref name="push"/>, errcode, error); empty when all were applied.</returns>
    /// <exception cref="PresenceGridApiException">The grid answered with an error, or could not be reached.</exception>
    Task<IReadOnlyList<FederationItemError>> SendFederationAsync(string origin, IEnumerable<FederationPresenceUpdate> push, CancellationToken cancellationToken = default);

    /// <summary>Takes (removes and returns) the EDUs queued for a remote server. Taken EDUs are not returned again.</summary>
    /// <param name="destination">The remote server name.</param>
    /// <param name="limit">The most EDUs to take, 1 to 100; one when null.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The EDUs, oldest first; empty when none are queued.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is outside 1..100.</exception>
    /// <exception cref="PresenceGridApiException">The grid answered with an error, or could not be reached.</exception>
    Task<IReadOnlyList<OutgoingEdu>> TakeOutgoingAsync(string destination, int? limit = null, CancellationToken cancellationToken = default);

    /// <summary>Sends the presence of every online local user to the given users (the module API's <c>send_local_online_presence_to</c>).</summary>
    /// <param name="users">The users to send to.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the grid accepted the request.</returns>
    /// <exception cref="PresenceGridApiException">The grid answered with an error, or could not be reached.</exception>
    Task SendLocalOnlinePresenceToAsync(IEnumerable<string> users, CancellationToken cancellationToken = default);

    /// <summary>Sets the presence of several users at once (the module API's <c>set_presence_for_users</c>).</summary>
    /// <param name="users">The presence to set, keyed by user id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the grid accepted the changes.</returns>
    /// <exception cref="PresenceGridApiException">The grid answered with an error, or could not be reached.</exception>
    Task SetPresenceForUsersAsync(IReadOnlyDictionary<string, UserPresenceUpdate> users, CancellationToken cancellationToken = default);

    /// <summary>Explains whether and why presence of <paramref name="from"/> reaches <paramref name="to"/>.</summary>
    /// <param name="from">The user whose presence is considered.</param>
    /// <param name="to">The user who would receive it.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Whether it is delivered, and the reasons.</returns>
    /// <exception cref="PresenceGridApiException">The grid answered with an error, or could not be reached.</exception>
    Task<PresenceExplanation> ExplainAsync(string from, string to, CancellationToken cancellationToken = default);

    /// <summary>Gets the cluster membership as seen by the answering silo.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The silos.</returns>
    /// <exception cref="PresenceGridApiException">The grid answered with an error, or could not be reached.</exception>
    Task<ClusterStatus> GetClusterAsync(CancellationToken cancellationToken = default);

    /// <summary>Checks the health of the silo that answers.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The health status.</returns>
    /// <exception cref="PresenceGridApiException">The grid answered with an error, or could not be reached.</exception>
    Task<HealthStatus> HealthAsync(CancellationToken cancellationToken = default);
}
