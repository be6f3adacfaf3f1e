using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;
using PresenceGrid.Matrix;
using PresenceGrid.Modules;

namespace PresenceGrid.Routing.Tests.Infrastructure;

/// <summary>Where test modules record their calls; keyed by a per-test id passed in the module's <c>probe</c> config.</summary>
internal static class CallProbe
{
    private static readonly ConcurrentDictionary<string, ConcurrentQueue<string>> Calls = new();

    public static string NewId() => Guid.NewGuid().ToString("N");

    public static void Record(string? probe, string call)
    {
        if (probe is not null)
        {
            Calls.GetOrAdd(probe, static _ => new()).Enqueue(call);
        }
    }

    public static IReadOnlyList<string> Of(string probe) => Calls.TryGetValue(probe, out var calls) ? [.. calls] : [];
}

/// <summary>
/// New style, no ParseConfig. Config: <c>probe</c>, <c>name</c>, <c>interest</c> ("ALL" or comma-separated MXIDs),
/// <c>route_to</c> (an MXID that receives every state).
/// </summary>
internal sealed class ProbeRouter
{
    private readonly string? _probe;
    private readonly string _name;
    private readonly string? _interest;
    private readonly string? _routeTo;

    public ProbeRouter(IConfiguration config, IModuleApi api)
    {
        _probe = config["probe"];
        _name = config["name"] ?? "probe";
        _interest = config["interest"];
        _routeTo = config["route_to"];
        api.RegisterPresenceRouterCallbacks(GetUsersForStatesAsync, GetInterestedUsersAsync);
    }

    public Task<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>?> GetUsersForStatesAsync(IReadOnlyList<UserPresenceState> states)
    {
        CallProbe.Record(_probe, $"{_name}:get_users_for_states");
        var result = new Dictionary<string, IReadOnlySet<UserPresenceState>>();
        if (_routeTo is not null)
        {
            result[_routeTo] = new HashSet<UserPresenceState>(states);
        }

        return Task.FromResult<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>?>(result);
    }

    public Task<InterestedUsers?> GetInterestedUsersAsync(string userId)
    {
        CallProbe.Record(_probe, $"{_name}:get_interested_users");
        return Task.FromResult<InterestedUsers?>(_interest switch
        {
            null or "" => InterestedUsers.None,
            PresenceRouter.AllUsersValue => InterestedUsers.All,
            _ => InterestedUsers.FromUsers(_interest.Split(',')),
        });
    }
}

/// <summary>Legacy style with synchronous, loosely typed methods (Synapse allows sync methods; a Python dict of sets maps to this).</summary>
internal sealed class LegacySyncRouter
{
    private readonly string? _probe;
    private readonly string? _interest;
    private readonly string? _routeTo;

    public LegacySyncRouter(IConfiguration config, IModuleApi api)
    {
        _ = api;
        _probe = config["probe"];
        _interest = config["interest"];
        _routeTo = config["route_to"];
    }

    public Dictionary<string, HashSet<UserPresenceState>> GetUsersForStates(IEnumerable<UserPresenceState> states)
    {
        CallProbe.Record(_probe, "legacy:get_users_for_states");
        var result = new Dictionary<string, HashSet<UserPresenceState>>();
        if (_routeTo is not null)
        {
            result[_routeTo] = [.. states];
        }

        return result;
    }

    public Task<object> GetInterestedUsersAsync(string userId)
    {
        CallProbe.Record(_probe, "legacy:get_interested_users");
        object result = _interest switch
        {
            PresenceRouter.AllUsersValue => PresenceRouter.AllUsersValue,
            "list" => new List<string> { "@listed:example.org" },
            null or "" => new HashSet<string>(),
            _ => new HashSet<string>(_interest.Split(',')),
        };
        return Task.FromResult(result);
    }
}

/// <summary>Typed configuration of <see cref="LegacyParseConfigRouter"/>.</summary>
internal sealed record LegacyRouterConfig(UserId Watcher, string? Probe);

/// <summary>Legacy style with a static ParseConfig and a typed constructor; ValueTask and Task methods.</summary>
internal sealed class LegacyParseConfigRouter
{
    public LegacyParseConfigRouter(LegacyRouterConfig config, IModuleApi api)
    {
        _ = api;
        Config = config;
    }

    public LegacyRouterConfig Config { get; }

    public static LegacyRouterConfig ParseConfig(IConfiguration config)
    {
        var watcher = config["watcher"] ?? throw new ModuleConfigException("watcher", "'watcher' is required.");
        return UserId.TryParse(watcher, out var userId)
            ? new LegacyRouterConfig(userId, config["probe"])
            : throw new ModuleConfigException("watcher", $"watcher: '{watcher}' is not a valid Matrix user id.");
    }

    public Task<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>?> GetUsersForStatesAsync(IReadOnlyList<UserPresenceState> states)
    {
        CallProbe.Record(Config.Probe, "legacy:get_users_for_states");
        return Task.FromResult<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>?>(
            new Dictionary<string, IReadOnlySet<UserPresenceState>> { [Config.Watcher.ToString()] = new HashSet<UserPresenceState>(states) });
    }

    public ValueTask<InterestedUsers?> GetInterestedUsersAsync(string userId)
    {
        CallProbe.Record(Config.Probe, "legacy:get_interested_users");
        return ValueTask.FromResult<InterestedUsers?>(userId == Config.Watcher.ToString() ? InterestedUsers.All : InterestedUsers.None);
    }
}

/// <summary>Legacy style with only one of the two methods.</summary>
internal sealed class LegacyHalfRouter
{
    public LegacyHalfRouter(IConfiguration config, IModuleApi api)
    {
        _ = config;
        _ = api;
    }

    public Task<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>?> GetUsersForStatesAsync(IReadOnlyList<UserPresenceState> states) =>
        Task.FromResult<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>?>(null);
}

/// <summary>Legacy style whose method takes the wrong parameter type.</summary>
internal sealed class LegacyBadSignatureRouter
{
    public LegacyBadSignatureRouter(IConfiguration config, IModuleApi api)
    {
        _ = config;
        _ = api;
    }

    public Task<InterestedUsers?> GetInterestedUsers(int userId) => Task.FromResult<InterestedUsers?>(InterestedUsers.None);

    public Task<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>?> GetUsersForStates(IReadOnlyList<UserPresenceState> states) =>
        Task.FromResult<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>?>(null);
}

/// <summary>Registers get_users_for_states only.</summary>
internal sealed class OneCallbackModule
{
    public OneCallbackModule(IConfiguration config, IModuleApi api)
    {
        _ = config;
        api.RegisterPresenceRouterCallbacks(getUsersForStates: TestData.NoRoutes);
    }
}

/// <summary>Has no constructor the loader can use.</summary>
internal sealed class BadConstructorModule
{
    public BadConstructorModule(string name) => Name = name;

    public string Name { get; }
}

/// <summary>ParseConfig always rejects the configuration.</summary>
internal sealed class ParseConfigThrowsModule
{
    public ParseConfigThrowsModule(LegacyRouterConfig config, IModuleApi api)
    {
        _ = config;
        _ = api;
    }

    public static LegacyRouterConfig ParseConfig(IConfiguration config) =>
        throw new ModuleConfigException("threshold", $"threshold: '{config["threshold"]}' must be a positive integer.");
}

/// <summary>Has a ParseConfig but only an (IConfiguration, IModuleApi) constructor.</summary>
internal sealed class ParseConfigWithoutTypedConstructorModule
{
    public ParseConfigWithoutTypedConstructorModule(IConfiguration config, IModuleApi api)
    {
        _ = config;
        _ = api;
    }

    public static LegacyRouterConfig ParseConfig(IConfiguration config) => new(UserId.Parse("@a:example.org"), null);
}

/// <summary>Its constructor throws.</summary>
internal sealed class ThrowingConstructorModule
{
    public ThrowingConstructorModule(IConfiguration config, IModuleApi api)
    {
        _ = config;
        _ = api;
        throw new InvalidOperationException("database unreachable");
    }
}

/// <summary>Keeps its API, so a test can try to register after start-up.</summary>
internal sealed class KeepsApiModule
{
    public KeepsApiModule(IConfiguration config, IModuleApi api)
    {
        _ = config;
        Api = api;
    }

    public IModuleApi Api { get; }
}

/// <summary>
/// Deliberately inconsistent: routes @alice's state to @bob but tells the server @bob is interested in @carol.
/// </summary>
internal sealed class InconsistentRouter
{
    public InconsistentRouter(IConfiguration config, IModuleApi api)
    {
        _ = config;
        api.RegisterPresenceRouterCallbacks(GetUsersForStatesAsync, GetInterestedUsersAsync);
    }

    public static Task<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>?> GetUsersForStatesAsync(IReadOnlyList<UserPresenceState> states)
    {
        var result = new Dictionary<string, IReadOnlySet<UserPresenceState>>
        {
            ["@bob:example.org"] = new HashSet<UserPresenceState>(states.Where(static s => s.UserId.Localpart == "alice")),
        };
        return Task.FromResult<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>?>(result);
    }

    public static Task<InterestedUsers?> GetInterestedUsersAsync(string userId) =>
        Task.FromResult<InterestedUsers?>(userId == "@bob:example.org" ? InterestedUsers.FromUsers(["@carol:example.org"]) : InterestedUsers.None);
}

/// <summary>Registers a room recipients replacement: @alice's room recipients become @bob only.</summary>
internal sealed class ReplacementModule
{
    public ReplacementModule(IConfiguration config, IModuleApi api)
    {
        _ = config;
        api.RegisterRoomRecipientsReplacement(states =>
        {
            var result = new Dictionary<string, IReadOnlySet<string>>();
            foreach (var state in states)
            {
                if (state.UserId.Localpart == "alice")
                {
                    result[state.UserId.ToString()] = new HashSet<string> { "@bob:example.org" };
                }
            }

            return Task.FromResult<IReadOnlyDictionary<string, IReadOnlySet<string>>?>(result);
        });
    }
}

/// <summary>Takes its config as a faithful tree (a Python module's dict) and keeps a copy for the test.</summary>
internal sealed class TreeConfigModule
{
    public TreeConfigModule(System.Text.Json.Nodes.JsonObject config, IModuleApi api)
    {
        Config = config;
    }

    public System.Text.Json.Nodes.JsonObject Config { get; }
}

/// <summary>Parses its config from the tree (Synapse's static parse_config).</summary>
internal sealed class TreeParseConfigModule
{
    public TreeParseConfigModule(IReadOnlyDictionary<string, string> pairs, IModuleApi api)
    {
        Pairs = pairs;
    }

    public IReadOnlyDictionary<string, string> Pairs { get; }

    public static IReadOnlyDictionary<string, string> ParseConfig(System.Text.Json.Nodes.JsonObject config) =>
        (config["pairs"] as System.Text.Json.Nodes.JsonObject ?? []).ToDictionary(p => p.Key, p => p.Value!.GetValue<string>());
}

/// <summary>Hands its <see cref="IModuleApi"/> to the test that configured it (keyed by the <c>probe</c> config value).</summary>
internal sealed class ApiCapturingModule
{
    public static readonly ConcurrentDictionary<string, IModuleApi> Apis = new();

    public ApiCapturingModule(System.Text.Json.Nodes.JsonObject config, IModuleApi api) => Apis[config["probe"]!.GetValue<string>()] = api;
}

