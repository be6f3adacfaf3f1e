using PresenceGrid.Matrix;
using PresenceGrid.Routing;

namespace PresenceGrid.Fanout;

/// <summary>
/// The rules that decide whether a sender's presence reaches a recipient, shared by the fan-out, the sync and
/// <c>explain</c> (one decision, not a second opinion).
/// </summary>
internal static class DeliveryRules
{
    /// <summary>
    /// Synapse's filter on what a recipient's sync shows of a delivery: a user whose interest is ALL has every
    /// delivered sender offered to the modules (it then sees exactly what <c>get_users_for_states</c> routes to it, see
    /// <see cref="RoutesTo"/>); others see themselves, their room mates (or a module's replacement of them) and the
    /// modules' extra users (<c>get_interested_users</c>); membership extras (<see cref="DeliveryKind.Joined"/>) are
    /// shown to everyone, ALL users included, without the modules (Synapse appends them after <c>get_new_events</c>). A state <c>get_users_for_states</c> routed to a user who is
    /// not ALL only wakes it, as in Synapse.
    /// </summary>
    public static bool IsVisible(DeliveryKind kind, UserId sender, PresenceInterest interest)
    {
        if (interest.All)
        {
            return kind != DeliveryKind.None;
        }

        return (kind & (DeliveryKind.Self | DeliveryKind.Room | DeliveryKind.Joined)) != 0 || interest.Users.Contains(sender.ToString());
    }

    /// <summary>Whether an ALL user's sync shows a delivery as is (a membership extra) instead of offering it to the modules.</summary>
    public static bool IsMembershipExtra(DeliveryKind kind) => (kind & DeliveryKind.Joined) != 0;

    /// <summary>Whether a merged <c>get_users_for_states</c> result gives <paramref name="recipient"/> a state of <paramref name="sender"/> (matched by user, any instance).</summary>
    public static bool RoutesTo(IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>> routed, string recipient, UserId sender) =>
        routed.TryGetValue(recipient, out IReadOnlySet<UserPresenceState>? states) && states.Any(state => state.UserId.Equals(sender));

    /// <summary>The recipients a module put in place of <paramref name="sender"/>'s room mates, or null when its rooms apply.</summary>
    public static IReadOnlySet<string>? RoomReplacement(IReadOnlyDictionary<string, IReadOnlySet<string>>? replaced, UserId sender) =>
        replaced is not null && replaced.TryGetValue(sender.ToString(), out IReadOnlySet<string>? recipients) ? recipients : null;
}
