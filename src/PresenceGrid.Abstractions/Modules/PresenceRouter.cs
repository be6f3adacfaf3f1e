namespace PresenceGrid.Modules;

/// <summary>Constants of Synapse's <c>synapse.events.presence_router.PresenceRouter</c>.</summary>
public static class PresenceRouter
{
    /// <summary>Synapse's <c>PresenceRouter.ALL_USERS</c> / <c>PRESENCE_ALL_USERS</c>; legacy modules may return this string.</summary>
    public const string AllUsersValue = "ALL";

    /// <summary>The "all users" result of <see cref="GetInterestedUsersCallback"/>; the same instance as <see cref="InterestedUsers.All"/>.</summary>
    public static InterestedUsers AllUsers => InterestedUsers.All;
}
