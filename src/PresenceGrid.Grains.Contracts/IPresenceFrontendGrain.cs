namespace PresenceGrid.Grains.Contracts;

/// <summary>
/// The frontend operations of the grid for Orleans clients (a .NET frontend connected through a gateway): the same
/// operations as the HTTP/JSON API, run by the same code. A stateless worker: every silo serves it locally, so a client's
/// calls are answered by the gateway silo it is connected to. Use the key <see cref="Key"/>.
/// </summary>
/// <remarks>
/// Every method throws <see cref="PresenceFrontendException"/> for an error the HTTP API answers with a status and an
/// <c>errcode</c> (bad input naming the field, forbidden, unknown, rate limited, unavailable); nothing is changed then.
/// Presence values are Matrix wire strings (<c>online</c>, <c>unavailable</c>, <c>offline</c>, <c>org.matrix.msc3026.busy</c>).
/// </remarks>
[Alias("presencegrid.IPresenceFrontendGrain")]
public interface IPresenceFrontendGrain : IGrainWithIntegerKey
{
    /// <summary>The key of the frontend grain (any key works; one keeps the activations per silo few).</summary>
    const long Key = 0;

    /// <summary>Sets a local user's presence (<c>PUT /v1/presence/{userId}/status</c>).</summary>
    /// <param name="request">The user, presence, status message and device.</param>
    /// <returns>A task that completes when the change was accepted.</returns>
    [Alias("SetPresence")]
    Task SetPresence(SetPresenceRequest request);

    /// <summary>Gets a user's presence as <paramref name="requester"/> may see it (<c>GET /v1/presence/{userId}/status</c>).</summary>
    /// <param name="userId">The user whose presence is read.</param>
    /// <param name="requester">The user asking; required.</param>
    /// <returns>The <c>m.presence</c> content.</returns>
    [Alias("GetPresence")]
    Task<PresenceContentResult> GetPresence(string userId, string? requester);

    /// <summary>A device starts or stops syncing (<c>POST /v1/presence/{userId}/devices/{deviceId}/sync</c>).</summary>
    /// <param name="userId">The user.</param>
    /// <param name="deviceId">The device.</param>
    /// <param name="start">True for start, false for stop.</param>
    /// <param name="setPresence">For a start: the <c>set_presence</c> (online, unavailable or offline), or null for online.</param>
    /// <returns>A task that completes when the change was accepted.</returns>
    [Alias("SetSyncing")]
    Task SetSyncing(string userId, string deviceId, bool start, string? setPresence);

    /// <summary>The user was active on a device (<c>POST /v1/presence/{userId}/devices/{deviceId}/active</c>).</summary>
    /// <param name="userId">The user.</param>
    /// <param name="deviceId">The device.</param>
    /// <returns>A task that completes when it was accepted.</returns>
    [Alias("MarkActive")]
    Task MarkActive(string userId, string deviceId);

    /// <summary>A device's sync is still open: renews its syncing lease (<c>POST /v1/presence/{userId}/devices/{deviceId}/keepalive</c>).</summary>
    /// <param name="userId">The user.</param>
    /// <param name="deviceId">The device.</param>
    /// <returns>A task that completes when it was accepted.</returns>
    [Alias("KeepAlive")]
    Task KeepAlive(string userId, string deviceId);

    /// <summary>
    /// The presence part of a sync (<c>GET /v1/sync/{userId}</c>), waiting up to <see cref="SyncRequest.Timeout"/> (cut to
    /// the grid's <c>max_sync_timeout</c>) for events. Cancelling <paramref name="cancellationToken"/> ends the wait.
    /// </summary>
    /// <param name="request">The user, token, full state and timeout.</param>
    /// <param name="cancellationToken">Ends the wait (Orleans carries the cancellation to the silo).</param>
    /// <returns>The events and the token to continue from.</returns>
    [Alias("Sync")]
    [ResponseTimeout("01:00:00")]
    Task<SyncResult> Sync(SyncRequest request, CancellationToken cancellationToken);

    /// <summary>Sets a room membership as the homeserver reports it (<c>PUT /v1/rooms/{roomId}/members/{userId}</c>).</summary>
    /// <param name="roomId">The room.</param>
    /// <param name="userId">The user.</param>
    /// <param name="membership"><c>join</c>, <c>leave</c>, <c>invite</c>, <c>ban</c> or <c>knock</c>.</param>
    /// <returns>A task that completes when the change was accepted.</returns>
    [Alias("SetMembership")]
    Task SetMembership(string roomId, string userId, string membership);

    /// <summary>An <c>m.presence</c> EDU from a remote server (<c>POST /v1/federation/incoming</c>): bad items are rejected, the rest apply.</summary>
    /// <param name="origin">The sending server.</param>
    /// <param name="push">The EDU's items.</param>
    /// <returns>The rejected items; empty when all applied.</returns>
    [Alias("ReceiveFederation")]
    Task<FederationItemErrorResult[]> ReceiveFederation(string origin, FederationPresenceItem[] push);

    /// <summary>Takes the EDUs waiting for a remote server (<c>POST /v1/federation/outgoing/{destination}/take</c>).</summary>
    /// <param name="destination">The server.</param>
    /// <param name="limit">At most this many EDUs, 1 to 100.</param>
    /// <returns>The EDUs, oldest first.</returns>
    [Alias("TakeOutgoing")]
    Task<OutgoingEduResult[]> TakeOutgoing(string destination, int limit);

    /// <summary>The module API's <c>send_local_online_presence_to</c> (<c>POST /v1/modules/send_local_online_presence_to</c>).</summary>
    /// <param name="users">The users.</param>
    /// <returns>A task that completes when it was accepted.</returns>
    [Alias("SendLocalOnlinePresenceTo")]
    Task SendLocalOnlinePresenceTo(string[] users);

    /// <summary>The module API's <c>set_presence_for_users</c> (<c>POST /v1/modules/set_presence_for_users</c>).</summary>
    /// <param name="users">The presence to set per user; a later entry for a user replaces an earlier one.</param>
    /// <returns>A task that completes when the changes were accepted.</returns>
    [Alias("SetPresenceForUsers")]
    Task SetPresenceForUsers(UserPresenceInput[] users);

    /// <summary>Why <paramref name="from"/>'s presence does or does not reach <paramref name="to"/> (<c>GET /v1/admin/explain</c>).</summary>
    /// <param name="from">The sender.</param>
    /// <param name="to">The recipient.</param>
    /// <returns>Whether it is delivered, and the reasons.</returns>
    [Alias("Explain")]
    Task<ExplanationResult> Explain(string from, string to);

    /// <summary>The cluster membership as the answering silo sees it (<c>GET /v1/admin/cluster</c>).</summary>
    /// <returns>The silos.</returns>
    [Alias("GetCluster")]
    Task<ClusterResult> GetCluster();

    /// <summary>The answering silo's health (<c>GET /healthz</c>).</summary>
    /// <returns><c>"ok"</c> when healthy.</returns>
    [Alias("Health")]
    Task<string> Health();
}
