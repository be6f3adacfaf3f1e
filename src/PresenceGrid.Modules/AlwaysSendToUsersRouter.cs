using Microsoft.Extensions.Configuration;
using PresenceGrid.Matrix;
using PresenceGrid.Modules.Internal;

namespace PresenceGrid.Modules;

/// <summary>
/// Synapse's documented example "Presence Router Module": every user of <c>always_send_to_users</c> receives the presence of every
/// user not in <c>blacklisted_users</c>.
/// </summary>
/// <remarks>
/// <para>Configuration (new style, a <c>modules:</c> entry, or legacy <c>presence.presence_router</c>):</para>
/// <code>
/// module: PresenceGrid.Modules.AlwaysSendToUsersRouter
/// config:
///   always_send_to_users: ["@presence_gobbler:example.org"]
///   blacklisted_users: ["@secret:example.org"]
/// </code>
/// <para><c>get_users_for_states</c> maps each <c>always_send_to_users</c> user to all states of the batch whose user is not
/// blacklisted; <c>get_interested_users(u)</c> is ALL when u is in <c>always_send_to_users</c>, else the empty set. The two line up:
/// ALL makes the server offer u every state and keep those <c>get_users_for_states</c> routes to u.</para>
/// </remarks>
public sealed class AlwaysSendToUsersRouter
{
    /// <summary>The <c>always_send_to_users</c> configuration key.</summary>
    public const string AlwaysSendToUsersKey = "always_send_to_users";

    /// <summary>The <c>blacklisted_users</c> configuration key.</summary>
    public const string BlacklistedUsersKey = "blacklisted_users";

    private static readonly Task<InterestedUsers?> AllTask = Task.FromResult<InterestedUsers?>(InterestedUsers.All);
    private static readonly Task<InterestedUsers?> NoneTask = Task.FromResult<InterestedUsers?>(InterestedUsers.None);
    private static readonly Task<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>?> EmptyTask =
        Task.FromResult<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>?>(new Dictionary<string, IReadOnlySet<UserPresenceState>>());

    private readonly string[] _alwaysSendTo;
    private readonly HashSet<string> _alwaysSendToSet;
    private readonly HashSet<UserId> _blacklisted;

    /// <summary>Creates the router and registers both callbacks.</summary>
    /// <param name="config">The configuration from <see cref="ParseConfig"/>.</param>
    /// <param name="api">The module API.</param>
    public AlwaysSendToUsersRouter(AlwaysSendToUsersRouterConfig config, IModuleApi api)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(api);
        Config = config;
        _alwaysSendToSet = new HashSet<string>(StringComparer.Ordinal);
        var ordered = new List<string>(config.AlwaysSendToUsers.Count);
        foreach (var user in config.AlwaysSendToUsers)
        {
            if (_alwaysSendToSet.Add(user.ToString()))
            {
                ordered.Add(user.ToString());
            }
        }

        _alwaysSendTo = [.. ordered];
        _blacklisted = [.. config.BlacklistedUsers];
        api.RegisterPresenceRouterCallbacks(GetUsersForStatesAsync, GetInterestedUsersAsync);
    }

    /// <summary>The configuration in use.</summary>
    public AlwaysSendToUsersRouterConfig Config { get; }

    /// <summary>Validates the <c>config:</c> section.</summary>
    /// <param name="config">The module's <c>config:</c> section; both keys are optional lists of MXIDs.</param>
    /// <returns>The typed configuration.</returns>
    /// <exception cref="ModuleConfigException">An unknown key, a value that is not a list, or an invalid MXID (the message names key and value).</exception>
    public static AlwaysSendToUsersRouterConfig ParseConfig(IConfiguration config)
    {
        ArgumentNullException.ThrowIfNull(config);
        ModuleConfigReader.RejectUnknownKeys(config, AlwaysSendToUsersKey, BlacklistedUsersKey);
        return new AlwaysSendToUsersRouterConfig(
            ModuleConfigReader.ReadUserIdList(config.GetSection(AlwaysSendToUsersKey), AlwaysSendToUsersKey),
            ModuleConfigReader.ReadUserIdList(config.GetSection(BlacklistedUsersKey), BlacklistedUsersKey));
    }

    /// <summary><c>get_users_for_states</c>: every <c>always_send_to_users</c> user gets every state whose user is not blacklisted
    /// (an entry is present for each such user even when nothing is left, as in Synapse's example).</summary>
    /// <param name="states">The batch.</param>
    /// <returns>The routing.</returns>
    public Task<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>?> GetUsersForStatesAsync(IReadOnlyList<UserPresenceState> states)
    {
        ArgumentNullException.ThrowIfNull(states);
        if (_alwaysSendTo.Length == 0)
        {
            return EmptyTask;
        }

        var allowed = new HashSet<UserPresenceState>(states.Count);
        for (var i = 0; i < states.Count; i++)
        {
            var state = states[i];
            if (!_blacklisted.Contains(state.UserId))
            {
                allowed.Add(state);
            }
        }

        // One read-only set shared by every key: the pipeline copies while merging.
        var result = new Dictionary<string, IReadOnlySet<UserPresenceState>>(_alwaysSendTo.Length, StringComparer.Ordinal);
        foreach (var user in _alwaysSendTo)
        {
            result[user] = allowed;
        }

        return Task.FromResult<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>?>(result);
    }

    /// <summary><c>get_interested_users</c>: ALL for an <c>always_send_to_users</c> user, else nobody.</summary>
    /// <param name="userId">The syncing local user.</param>
    /// <returns><see cref="InterestedUsers.All"/> or <see cref="InterestedUsers.None"/>.</returns>
    public Task<InterestedUsers?> GetInterestedUsersAsync(string userId) =>
        userId is not null && _alwaysSendToSet.Contains(userId) ? AllTask : NoneTask;
}
