using PresenceGrid.Matrix;

namespace PresenceGrid.Modules;

/// <summary>The validated configuration of <see cref="AlwaysSendToUsersRouter"/>.</summary>
/// <param name="AlwaysSendToUsers">Users that receive every presence update (<c>always_send_to_users</c>).</param>
/// <param name="BlacklistedUsers">Users whose updates are never routed by this module (<c>blacklisted_users</c>).</param>
public sealed record AlwaysSendToUsersRouterConfig(IReadOnlyList<UserId> AlwaysSendToUsers, IReadOnlyList<UserId> BlacklistedUsers)
{
    /// <summary>Compares the lists element by element, so a reload can tell whether anything changed.</summary>
    /// <param name="other">The other configuration.</param>
    /// <returns><see langword="true"/> when both lists are equal in order.</returns>
    public bool Equals(AlwaysSendToUsersRouterConfig? other) =>
        other is not null
        && AlwaysSendToUsers.SequenceEqual(other.AlwaysSendToUsers)
        && BlacklistedUsers.SequenceEqual(other.BlacklistedUsers);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(AlwaysSendToUsers.Count, BlacklistedUsers.Count);
}
