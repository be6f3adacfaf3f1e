using Microsoft.Extensions.Configuration;
using PresenceGrid.Matrix;
using PresenceGrid.Modules;

namespace PresenceGrid.Routing.Tests.Infrastructure;

/// <summary>Builders for states, results and configuration.</summary>
internal static class TestData
{
    public static UserId U(string mxid) => UserId.Parse(mxid);

    public static UserPresenceState S(string mxid, PresenceState state = PresenceState.Online, string? status = null) =>
        UserPresenceState.Default(U(mxid)) with { State = state, StatusMsg = status };

    /// <summary>A get_users_for_states result, in the given order.</summary>
    public static IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>? Routes(params (string User, UserPresenceState[]? States)[] entries)
    {
        var result = new Dictionary<string, IReadOnlySet<UserPresenceState>>();
        foreach (var (user, states) in entries)
        {
            result[user] = states is null ? null! : new HashSet<UserPresenceState>(states);
        }

        return result;
    }

    public static GetUsersForStatesCallback Returns(IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>? result) => _ => Task.FromResult(result);

    public static GetInterestedUsersCallback Interest(InterestedUsers? result) => _ => Task.FromResult(result);

    public static GetInterestedUsersCallback Interest(params string[] users) => _ => Task.FromResult<InterestedUsers?>(InterestedUsers.FromUsers(users));

    public static GetUsersForStatesCallback NoRoutes { get; } = _ => Task.FromResult<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>?>(
        new Dictionary<string, IReadOnlySet<UserPresenceState>>());

    public static GetInterestedUsersCallback NoInterest { get; } = _ => Task.FromResult<InterestedUsers?>(InterestedUsers.None);

    /// <summary>Builds configuration from flattened key/value pairs, as a YAML or JSON provider would produce.</summary>
    public static IConfigurationRoot Config(params (string Key, string? Value)[] values) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(static v => new KeyValuePair<string, string?>(v.Key, v.Value)))
            .Build();

    public static HashSet<string> Senders(IEnumerable<UserPresenceState> states) => [.. states.Select(static s => s.UserId.ToString())];
}
