using System.Text.Json.Serialization;

namespace PresenceGrid.Client;

/// <summary>A room membership, as sent to <c>PUT /v1/rooms/{roomId}/members/{userId}</c>.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<Membership>))]
public enum Membership
{
    /// <summary>The user joined the room (<c>"join"</c>).</summary>
    [JsonStringEnumMemberName("join")]
    Join,

    /// <summary>The user left the room (<c>"leave"</c>).</summary>
    [JsonStringEnumMemberName("leave")]
    Leave,

    /// <summary>The user is invited to the room (<c>"invite"</c>).</summary>
    [JsonStringEnumMemberName("invite")]
    Invite,

    /// <summary>The user is banned from the room (<c>"ban"</c>).</summary>
    [JsonStringEnumMemberName("ban")]
    Ban,

    /// <summary>The user knocked on the room (<c>"knock"</c>).</summary>
    [JsonStringEnumMemberName("knock")]
    Knock,
}
