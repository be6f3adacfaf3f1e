using PresenceGrid.Matrix;

namespace PresenceGrid.Routing;

/// <summary>The merged <c>get_interested_users</c> result: ALL, or a set of valid user ids.</summary>
internal sealed class RouterInterest
{
    private static readonly HashSet<UserId> NoUsers = [];

    private RouterInterest(HashSet<UserId> users, bool isAll)
    {
        Users = users;
        IsAll = isAll;
    }

    /// <summary>Some module returned ALL.</summary>
    public static RouterInterest All { get; } = new(NoUsers, isAll: true);

    /// <summary>No module added anyone.</summary>
    public static RouterInterest None { get; } = new(NoUsers, isAll: false);

    public bool IsAll { get; }

    /// <summary>The additional users (empty when <see cref="IsAll"/>). Do not modify.</summary>
    public IReadOnlySet<UserId> Users { get; }

    public static RouterInterest Of(HashSet<UserId> users) => users.Count == 0 ? None : new RouterInterest(users, isAll: false);
}
