using PresenceGrid.Matrix;

namespace PresenceGrid.Routing;

/// <summary>What a user's presence interest is, per the routing modules: extra users, or ALL.</summary>
/// <param name="All">True when a module answered <c>PRESENCE_ALL_USERS</c>.</param>
/// <param name="Users">The extra users (empty when <paramref name="All"/>).</param>
[GenerateSerializer, Immutable, Alias("pg.PresenceInterest")]
public sealed record PresenceInterest([property: Id(0)] bool All, [property: Id(1)] IReadOnlySet<string> Users)
{
    /// <summary>No extra interest.</summary>
    public static PresenceInterest None { get; } = new(false, new HashSet<string>());

    /// <summary>Interest in every user.</summary>
    public static PresenceInterest AllUsers { get; } = new(true, new HashSet<string>());
}

/// <summary>The merged routing modules, as the grain layer uses them.</summary>
internal interface IPresenceRouting
{
    /// <summary>True when some module registered <c>get_users_for_states</c>.</summary>
    bool RoutesStates { get; }

    /// <summary>True when some module replaces room-based recipients.</summary>
    bool ReplacesRoomRecipients { get; }

    /// <summary>Merged <c>get_users_for_states</c>: recipient → states.</summary>
    Task<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>> GetUsersForStatesAsync(IReadOnlyList<UserPresenceState> states);

    /// <summary>Merged <c>get_interested_users</c>.</summary>
    Task<PresenceInterest> GetInterestedUsersAsync(string userId);

    /// <summary>Merged replacements of room-based recipients: sender → recipients (null when none).</summary>
    Task<IReadOnlyDictionary<string, IReadOnlySet<string>>?> ReplaceRoomRecipientsAsync(IReadOnlyList<UserPresenceState> states);

    /// <summary>
    /// For <c>explain</c>: the same merged callbacks the fan-out and the sync run, for one sender's state and one
    /// recipient, with what each module contributed.
    /// </summary>
    Task<RoutingTrace> TraceAsync(UserPresenceState state, string recipient);
}

/// <summary>No routing modules.</summary>
internal sealed class NoPresenceRouting : IPresenceRouting
{
    private static readonly IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>> Empty = new Dictionary<string, IReadOnlySet<UserPresenceState>>();

    public bool RoutesStates => false;

    public bool ReplacesRoomRecipients => false;

    public Task<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>> GetUsersForStatesAsync(IReadOnlyList<UserPresenceState> states) => Task.FromResult(Empty);

    public Task<PresenceInterest> GetInterestedUsersAsync(string userId) => Task.FromResult(PresenceInterest.None);

    public Task<IReadOnlyDictionary<string, IReadOnlySet<string>>?> ReplaceRoomRecipientsAsync(IReadOnlyList<UserPresenceState> states) =>
        Task.FromResult<IReadOnlyDictionary<string, IReadOnlySet<string>>?>(null);

    public Task<RoutingTrace> TraceAsync(UserPresenceState state, string recipient) => Task.FromResult(new RoutingTrace());
}
