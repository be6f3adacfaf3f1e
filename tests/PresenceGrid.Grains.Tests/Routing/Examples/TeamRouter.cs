using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using PresenceGrid.Matrix;
using PresenceGrid.Modules;

namespace PresenceGrid.Routing.Tests.Examples;

/// <summary>The validated configuration: team name → members.</summary>
public sealed record TeamRouterConfig(IReadOnlyDictionary<string, IReadOnlyList<UserId>> Teams);

/// <summary>
/// The example module of docs/modules.md: members of a team see each other's presence, whether or not they share a room.
/// </summary>
public sealed partial class TeamRouter
{
    private static readonly Task<InterestedUsers?> Nobody = Task.FromResult<InterestedUsers?>(InterestedUsers.None);

    // user → everyone who shares a team with them (themselves excluded), precomputed once.
    private readonly Dictionary<UserId, HashSet<string>> _teammates = [];
    private readonly Dictionary<string, Task<InterestedUsers?>> _interest = new(StringComparer.Ordinal);
    private readonly ILogger _logger;

    public TeamRouter(TeamRouterConfig config, IModuleApi api)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(api);
        _logger = api.LoggerFactory.CreateLogger<TeamRouter>();
        foreach (var members in config.Teams.Values)
        {
            foreach (var member in members)
            {
                if (!_teammates.TryGetValue(member, out var mates))
                {
                    _teammates[member] = mates = new HashSet<string>(StringComparer.Ordinal);
                }

                foreach (var other in members)
                {
                    if (other != member)
                    {
                        mates.Add(other.ToString());
                    }
                }
            }
        }

        foreach (var (member, mates) in _teammates)
        {
            _interest[member.ToString()] = Task.FromResult<InterestedUsers?>(InterestedUsers.FromSet(mates));
        }

        // New style: register both callbacks (exactly one would fail start-up).
        api.RegisterPresenceRouterCallbacks(GetUsersForStatesAsync, GetInterestedUsersAsync);
        LogLoaded(_logger, config.Teams.Count);
    }

    /// <summary>Validates <c>teams: { name: [mxid, ...] }</c>.</summary>
    public static TeamRouterConfig ParseConfig(IConfiguration config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var teams = new Dictionary<string, IReadOnlyList<UserId>>(StringComparer.Ordinal);
        foreach (var team in config.GetSection("teams").GetChildren())
        {
            var members = new List<UserId>();
            foreach (var item in team.GetChildren())
            {
                var key = $"teams.{team.Key}[{item.Key}]";
                if (!UserId.TryParse(item.Value, out var member))
                {
                    throw new ModuleConfigException(key, $"{key}: '{item.Value}' is not a valid Matrix user id.");
                }

                members.Add(member);
            }

            teams[team.Key] = members;
        }

        return new TeamRouterConfig(teams);
    }

    /// <summary>Every teammate of a state's user receives that state.</summary>
    public Task<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>?> GetUsersForStatesAsync(IReadOnlyList<UserPresenceState> states)
    {
        var result = new Dictionary<string, IReadOnlySet<UserPresenceState>>(StringComparer.Ordinal);
        foreach (var state in states)
        {
            if (!_teammates.TryGetValue(state.UserId, out var mates))
            {
                continue;
            }

            foreach (var mate in mates)
            {
                if (!result.TryGetValue(mate, out var set))
                {
                    result[mate] = set = new HashSet<UserPresenceState>();
                }

                ((HashSet<UserPresenceState>)set).Add(state);
            }
        }

        return Task.FromResult<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>?>(result);
    }

    /// <summary>A user is interested in exactly their teammates: this lines up with <see cref="GetUsersForStatesAsync"/>.</summary>
    public Task<InterestedUsers?> GetInterestedUsersAsync(string userId) =>
        _interest.TryGetValue(userId, out var interest) ? interest : Nobody;

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "TeamRouter loaded with {TeamCount} teams")]
    private static partial void LogLoaded(ILogger logger, int teamCount);
}
