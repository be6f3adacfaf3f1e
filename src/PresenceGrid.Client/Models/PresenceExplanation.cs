namespace PresenceGrid.Client;

/// <summary>Why (or whether) one user's presence is delivered to another, from <c>GET /v1/admin/explain</c>.</summary>
/// <param name="Delivered">Whether presence of <c>from</c> is delivered to <c>to</c>.</param>
/// <param name="Reasons">The reasons for delivery; empty when not delivered.</param>
public sealed record PresenceExplanation(bool Delivered, IReadOnlyList<ExplainReason> Reasons);

/// <summary>One reason for presence delivery.</summary>
/// <param name="Kind">The kind of reason; see <see cref="ExplainReasonKinds"/>.</param>
/// <param name="RoomId">The shared room, for <see cref="ExplainReasonKinds.Room"/>.</param>
/// <param name="Module">The routing module, for <see cref="ExplainReasonKinds.Module"/>.</param>
public sealed record ExplainReason(string Kind, string? RoomId = null, string? Module = null);

/// <summary>The values of <see cref="ExplainReason.Kind"/> known to this client.</summary>
public static class ExplainReasonKinds
{
    /// <summary>The user sees their own presence.</summary>
    public const string Self = "self";

    /// <summary>The users share a room (<see cref="ExplainReason.RoomId"/> names it).</summary>
    public const string Room = "room";

    /// <summary>A routing module routes the presence (<see cref="ExplainReason.Module"/> names it).</summary>
    public const string Module = "module";

    /// <summary>The server is configured to send presence to all users.</summary>
    public const string AllUsers = "all_users";
}
