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
