using Microsoft.Extensions.Configuration;
using PresenceGrid.Matrix;
using PresenceGrid.Modules.Internal;

namespace PresenceGrid.Modules;

/// <summary>
/// Routes presence between explicit pairs of users who need not share a room: each receiver gets the presence of its listed senders.
/// </summary>
/// <remarks>
/// <code>
/// modules:
///   - module: PresenceGrid.Modules.PairRouter
///     config:
///       routes:
///         "@receiver:example.org": ["@sender1:example.org", "@sender2:other.example"]
/// </code>
/// <para><c>get_users_for_states</c> gives each receiver the states of its senders; <c>get_interested_users(receiver)</c> returns its
/// senders, so the two callbacks line up. Configuration keys are case-insensitive, so two receivers that differ only in case are merged.</para>
/// </remarks>
public sealed class PairRouter
{
    /// <summary>The <c>routes</c> configuration key.</summary>
    public const string RoutesKey = "routes";

    private static readonly Task<InterestedUsers?> NoneTask = Task.FromResult<InterestedUsers?>(InterestedUsers.None);
    private static readonly Task<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>?> EmptyTask =
        Task.FromResult<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>?>(new Dictionary<string, IReadOnlySet<UserPresenceState>>());

    // Sender → receivers (as strings), and receiver → its precomputed interest result.
    private readonly Dictionary<UserId, string[]> _receiversBySender;
    private readonly Dictionary<string, Task<InterestedUsers?>> _interestByReceiver;

    /// <summary>Creates the router and registers both callbacks.</summary>
    /// <param name="config">The configuration from <see cref="ParseConfig"/>.</param>
    /// <param name="api">The module API.</param>
    public PairRouter(PairRouterConfig config, IModuleApi api)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(api);
        Config = config;
        var receiversBySender = new Dictionary<UserId, List<string>>();
        _interestByReceiver = new Dictionary<string, Task<InterestedUsers?>>(StringComparer.Ordinal);
        foreach (var (receiver, senders) in config.Routes)
        {
            var senderIds = new HashSet<string>(StringComparer.Ordinal);
            foreach (var sender in senders)
            {
                if (!senderIds.Add(sender.ToString()))
                {
                    continue;
                }

                if (!receiversBySender.TryGetValue(sender, out var receivers))
                {
                    receiversBySender[sender] = receivers = [];
                }

                receivers.Add(receiver.ToString());
            }

            _interestByReceiver[receiver.ToString()] = Task.FromResult<InterestedUsers?>(InterestedUsers.FromSet(senderIds));
        }

        _receiversBySender = new Dictionary<UserId, string[]>(receiversBySender.Count);
        foreach (var (sender, receivers) in receiversBySender)
        {
            _receiversBySender[sender] = [.. receivers];
        }

        api.RegisterPresenceRouterCallbacks(GetUsersForStatesAsync, GetInterestedUsersAsync);
    }

    /// <summary>The configuration in use.</summary>
    public PairRouterConfig Config { get; }

    /// <summary>Validates the <c>config:</c> section: <c>routes</c> maps receiver MXIDs to lists of sender MXIDs.</summary>
    /// <param name="config">The module's <c>config:</c> section.</param>
    /// <returns>The typed configuration.</returns>
    /// <exception cref="ModuleConfigException">An unknown key, a malformed <c>routes</c> entry or an invalid MXID (the message names key and value).</exception>
    public static PairRouterConfig ParseConfig(IConfiguration config)
    {
        ArgumentNullException.ThrowIfNull(config);
        ModuleConfigReader.RejectUnknownKeys(config, RoutesKey);
        var routes = new Dictionary<UserId, IReadOnlyList<UserId>>();
        var section = config.GetSection(RoutesKey);
        if (!string.IsNullOrEmpty(section.Value))
        {
            throw new ModuleConfigException(RoutesKey, $"'{RoutesKey}' must map receiver user ids to lists of sender user ids, not the single value '{section.Value}'.");
        }

        var receivers = section.GetChildren().ToList();

        // A YAML list arrives as the keys 0, 1, ...: no receiver (an MXID starts with '@') looks like that.
        if (receivers.Count > 0 && receivers.TrueForAll(r => r.Key.All(char.IsAsciiDigit)))
        {
            throw new ModuleConfigException(RoutesKey, $"'{RoutesKey}' must be a map of receiver user id → list of sender user ids (\"@bob:example.org\": [\"@alice:example.org\"]), not a list.");
        }

        foreach (var child in receivers)
        {
            CollectRoutes(child, child.Key, routes);
        }

        return new PairRouterConfig(routes);
    }

    /// <summary><c>get_users_for_states</c>: each receiver gets the states of its senders.</summary>
    /// <param name="states">The batch.</param>
    /// <returns>The routing; receivers with nothing to receive are left out.</returns>
    public Task<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>?> GetUsersForStatesAsync(IReadOnlyList<UserPresenceState> states)
    {
        ArgumentNullException.ThrowIfNull(states);
        Dictionary<string, IReadOnlySet<UserPresenceState>>? result = null;
        for (var i = 0; i < states.Count; i++)
        {
            var state = states[i];
            if (!_receiversBySender.TryGetValue(state.UserId, out var receivers))
            {
                continue;
            }

            result ??= new Dictionary<string, IReadOnlySet<UserPresenceState>>(StringComparer.Ordinal);
            foreach (var receiver in receivers)
            {
                if (!result.TryGetValue(receiver, out var set))
                {
                    result[receiver] = set = new HashSet<UserPresenceState>();
                }

                ((HashSet<UserPresenceState>)set).Add(state);
            }
        }

        return result is null ? EmptyTask : Task.FromResult<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>?>(result);
    }

    /// <summary><c>get_interested_users</c>: the receiver's senders, or nobody.</summary>
    /// <param name="userId">The syncing local user.</param>
    /// <returns>The senders configured for <paramref name="userId"/>.</returns>
    public Task<InterestedUsers?> GetInterestedUsersAsync(string userId) =>
        userId is not null && _interestByReceiver.TryGetValue(userId, out var interest) ? interest : NoneTask;

    // IConfiguration splits keys at ':', so the receiver "@bob:example.org" arrives as the nested sections "@bob" → "example.org".
    // Rebuild the key until the list of senders (numeric children holding values) is reached.
    private static void CollectRoutes(IConfigurationSection section, string key, Dictionary<UserId, IReadOnlyList<UserId>> routes)
    {
        var children = section.GetChildren().ToList();
        var isList = children.Count > 0;
        foreach (var child in children)
        {
            if (child.Value is null || !int.TryParse(child.Key, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
            {
                isList = false;
                break;
            }
        }

        if (!isList && children.Count > 0)
        {
            foreach (var child in children)
            {
                CollectRoutes(child, key + ConfigurationPath.KeyDelimiter + child.Key, routes);
            }

            return;
        }

        var where = $"{RoutesKey}[\"{key}\"]";
        if (!UserId.TryParse(key, out var receiver))
        {
            throw new ModuleConfigException(where, $"{RoutesKey}: receiver '{key}' is not a valid Matrix user id ({ModuleConfigReader.TryExplain(key)}).");
        }

        if (children.Count == 0 && !string.IsNullOrEmpty(section.Value))
        {
            throw new ModuleConfigException(where, $"{where} must be a list of sender user ids, not the single value '{section.Value}'.");
        }

        var senders = ModuleConfigReader.ReadUserIdList(section, where);
        if (routes.TryGetValue(receiver, out var existing))
        {
            senders.InsertRange(0, existing);
        }

        routes[receiver] = senders;
    }
}
