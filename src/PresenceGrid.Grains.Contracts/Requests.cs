namespace PresenceGrid.Grains.Contracts;

/// <summary>A presence change (<c>PUT /v1/presence/{userId}/status</c>).</summary>
/// <param name="UserId">The local user.</param>
/// <param name="Presence">The presence's wire string; validated by the grid.</param>
/// <param name="StatusMsg">The status message; null clears it.</param>
/// <param name="DeviceId">The device that set it, or null.</param>
[GenerateSerializer, Immutable]
[Alias("presencegrid.SetPresenceRequest")]
public sealed record SetPresenceRequest(
    [property: Id(0)] string UserId,
    [property: Id(1)] string Presence,
    [property: Id(2)] string? StatusMsg,
    [property: Id(3)] string? DeviceId);

/// <summary>A sync (<c>GET /v1/sync/{userId}</c>).</summary>
/// <param name="UserId">The syncing user.</param>
/// <param name="Since">The previous <c>next_batch</c>, or null for an initial sync.</param>
/// <param name="FullState">Synapse's <c>full_state</c>.</param>
/// <param name="Timeout">How long an incremental sync may wait for events (cut to <c>max_sync_timeout</c>).</param>
[GenerateSerializer, Immutable]
[Alias("presencegrid.SyncRequest")]
public sealed record SyncRequest(
    [property: Id(0)] string UserId,
    [property: Id(1)] string? Since,
    [property: Id(2)] bool FullState,
    [property: Id(3)] TimeSpan Timeout);

/// <summary>One item of an incoming <c>m.presence</c> EDU's <c>push</c> list.</summary>
/// <param name="UserId">The remote user.</param>
/// <param name="Presence">The presence's wire string.</param>
/// <param name="LastActiveAgo">Milliseconds since the user was last active, if known.</param>
/// <param name="StatusMsg">The status message, if any.</param>
/// <param name="CurrentlyActive">Whether the user is currently active, if known.</param>
[GenerateSerializer, Immutable]
[Alias("presencegrid.FederationPresenceItem")]
public sealed record FederationPresenceItem(
    [property: Id(0)] string UserId,
    [property: Id(1)] string Presence,
    [property: Id(2)] long? LastActiveAgo,
    [property: Id(3)] string? StatusMsg,
    [property: Id(4)] bool? CurrentlyActive);

/// <summary>One user's presence for <c>set_presence_for_users</c>.</summary>
/// <param name="UserId">The user.</param>
/// <param name="Presence">The presence's wire string.</param>
/// <param name="StatusMsg">The status message, or null.</param>
[GenerateSerializer, Immutable]
[Alias("presencegrid.UserPresenceInput")]
public sealed record UserPresenceInput(
    [property: Id(0)] string UserId,
    [property: Id(1)] string Presence,
    [property: Id(2)] string? StatusMsg);
