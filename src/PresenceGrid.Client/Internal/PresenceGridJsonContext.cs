using System.Text.Json.Serialization;

namespace PresenceGrid.Client.Internal;

/// <summary>
/// The only JSON metadata the client uses (source generated; reflection-based serialization is disabled in the project).
/// Names are snake_case, nulls are not written, and required members (constructor parameters without a default, non-nullable
/// references) are enforced when reading.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(SetPresenceRequest))]
[JsonSerializable(typeof(SyncStateRequest))]
[JsonSerializable(typeof(MembershipRequest))]
[JsonSerializable(typeof(FederationIncomingRequest))]
[JsonSerializable(typeof(FederationIncomingResponse))]
[JsonSerializable(typeof(TakeOutgoingResponse))]
[JsonSerializable(typeof(SendLocalOnlinePresenceToRequest))]
[JsonSerializable(typeof(SetPresenceForUsersRequest))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(PresenceContent))]
[JsonSerializable(typeof(SyncBatch))]
[JsonSerializable(typeof(PresenceExplanation))]
[JsonSerializable(typeof(ClusterStatus))]
[JsonSerializable(typeof(HealthStatus))]
[JsonSerializable(typeof(PlacementResponse))]
internal sealed partial class PresenceGridJsonContext : JsonSerializerContext;
