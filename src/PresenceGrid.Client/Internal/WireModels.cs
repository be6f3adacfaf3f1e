using System.Text.Json.Serialization;

namespace PresenceGrid.Client.Internal;

/// <summary>Body of <c>PUT /v1/presence/{userId}/status</c>.</summary>
internal sealed record SetPresenceRequest(PresenceState Presence, string? StatusMsg, string? DeviceId);

/// <summary>Body of <c>POST /v1/presence/{userId}/devices/{deviceId}/sync</c>.</summary>
internal sealed record SyncStateRequest(string State, PresenceState? SetPresence);

/// <summary>Body of <c>PUT /v1/rooms/{roomId}/members/{userId}</c>.</summary>
internal sealed record MembershipRequest(Membership Membership);

/// <summary>Body of <c>POST /v1/federation/incoming</c>.</summary>
internal sealed record FederationIncomingRequest(string Origin, string EduType, PresenceEduContent Content);

/// <summary>Answer of <c>POST /v1/federation/incoming</c>: <c>{}</c> or <c>{"errors": [...]}</c>.</summary>
internal sealed record FederationIncomingResponse(IReadOnlyList<FederationItemError>? Errors = null);

/// <summary>Answer of <c>POST /v1/federation/outgoing/{destination}/take</c>.</summary>
internal sealed record TakeOutgoingResponse(IReadOnlyList<OutgoingEdu> Edus);

/// <summary>Body of <c>POST /v1/modules/send_local_online_presence_to</c>.</summary>
internal sealed record SendLocalOnlinePresenceToRequest(IReadOnlyList<string> Users);

/// <summary>Body of <c>POST /v1/modules/set_presence_for_users</c>.</summary>
internal sealed record SetPresenceForUsersRequest(IReadOnlyDictionary<string, UserPresenceUpdate> Users);

/// <summary>Body of every error answer.</summary>
internal sealed record ErrorResponse(
    [property: JsonPropertyName("errcode")] string? ErrCode = null,
    string? Error = null,
    long? RetryAfterMs = null);

/// <summary>Answer of <c>GET /v1/cluster/placement</c>: what owner routing needs to place users as the runtime does.</summary>
/// <param name="Version">The answering silo's membership version.</param>
/// <param name="UserGrainType">The grain type of a user's presence grain (the part of the grain id before the user id).</param>
/// <param name="Silos">The active silos, in placement order.</param>
internal sealed record PlacementResponse(long Version, string UserGrainType, IReadOnlyList<PlacementSilo> Silos);

/// <summary>One active silo of <see cref="PlacementResponse"/>.</summary>
/// <param name="Name">The silo name.</param>
/// <param name="SiloEndpoint">The silo-to-silo endpoint, hashed by placement.</param>
/// <param name="Generation">The silo's generation, hashed by placement.</param>
/// <param name="HttpEndpoint">Where the silo serves this API; absent for a silo without a cluster.</param>
internal sealed record PlacementSilo(string Name, string SiloEndpoint, long Generation, string? HttpEndpoint = null);
