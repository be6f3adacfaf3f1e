namespace PresenceGrid.Modules;

/// <summary>
/// The result of a <see cref="GetInterestedUsersCallback"/>: either a set of user ids or <see cref="All"/>
/// (Synapse's <c>PRESENCE_ALL_USERS</c>, the string <c>"ALL"</c>).
/// </summary>
public sealed class InterestedUsers
{
    private static readonly IReadOnlySet<string> NoUsers = new HashSet<string>(StringComparer.Ordinal);

    private InterestedUsers(IReadOnlySet<string> userIds, bool isAll)
    {
        UserIds = userIds;
        IsAll = isAll;
    }

    /// <summary>"Every user": the server considers all presence updates and delivers those routed to the user by
    /// <see cref="GetUsersForStatesCallback"/>.</summary>
    public static InterestedUsers All { get; } = new(NoUsers, isAll: true);

    /// <summary>No additional users.</summary>
    public static InterestedUsers None { get; } = new(NoUsers, isAll: false);

    /// <summary>Whether this is <see cref="All"/>.</summary>
    public bool IsAll { get; }

    /// <summary>The user ids; empty for <see cref="All"/> and <see cref="None"/>.</summary>
    public IReadOnlySet<string> UserIds { get; }

    /// <summary>Wraps a set of user ids without copying it. Do not change the set afterwards.</summary>
    /// <param name="userIds">The user ids (full MXIDs).</param>
    /// <returns>The result to return from a callback.</returns>
    public static InterestedUsers FromSet(IReadOnlySet<string> userIds)
    {
        ArgumentNullException.ThrowIfNull(userIds);
        return userIds.Count == 0 ? None : new InterestedUsers(userIds, isAll: false);
    }

    /// <summary>Copies user ids into a new set.</summary>
    /// <param name="userIds">The user ids (full MXIDs); duplicates are removed.</param>
    /// <returns>The result to return from a callback.</returns>
    public static InterestedUsers FromUsers(IEnumerable<string> userIds)
    {
        ArgumentNullException.ThrowIfNull(userIds);
        return FromSet(new HashSet<string>(userIds, StringComparer.Ordinal));
    }

    /// <summary>Returns <c>ALL</c> or the number of users, never the ids themselves.</summary>
    /// <returns>A short description.</returns>
    public override string ToString() => IsAll ? PresenceRouter.AllUsersValue : $"{UserIds.Count} users";
}
