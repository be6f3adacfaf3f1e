using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PresenceGrid.Matrix;
using PresenceGrid.Modules;

namespace PresenceGrid.Routing;

/// <summary>
/// Loads the routing modules of a configuration on their own and reports where their two callbacks
/// disagree (the Synapse docs say they must "line up"; nothing there checks it). <c>pgrid check-module</c> runs it.
/// </summary>
public static partial class PresenceModuleCheck
{
    /// <summary>
    /// Samples users (every MXID the configuration mentions, plus <paramref name="extraUsers"/>), routes
    /// one online state of each through <c>get_users_for_states</c>, asks <c>get_interested_users</c> of
    /// each, and describes every (receiver, sender) pair where the answers disagree.
    /// </summary>
    /// <param name="configuration">Synapse-shaped configuration (<c>modules</c>, <c>presence:presence_router</c>).</param>
    /// <param name="serverNames">The local server names.</param>
    /// <param name="extraUsers">More users to sample.</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>The sampled users and one line per mismatch.</returns>
    /// <exception cref="ModuleLoadException">A module cannot be loaded.</exception>
    public static async Task<(IReadOnlyList<string> SampledUsers, IReadOnlyList<string> Mismatches)> RunAsync(
        IConfiguration configuration, IEnumerable<string> serverNames, IEnumerable<string> extraUsers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        (IReadOnlyList<ModuleConfiguration> modules, ModuleConfiguration? legacy) = ModuleLoader.ReadConfiguration(configuration);
        using var pipeline = new PresenceRouterPipeline(
            Options.Create(new RouterOptions()), TimeProvider.System, NullLogger<PresenceRouterPipeline>.Instance, new RoutingInstruments(null));
        using var host = new ModuleHost(new NoOperations(), serverNames.Select(n => ServerName.Parse(n)), NullLoggerFactory.Instance, TimeProvider.System);
        new ModuleLoader(pipeline, host).Load(modules, legacy);

        SortedSet<string> users = ConfiguredUsers(configuration);
        users.UnionWith(extraUsers);
        UserId[] sample = [.. users.Select(u => UserId.Parse(u, "users"))];
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        IReadOnlyList<RouterMismatch> mismatches = await RouterConsistency.FindMismatchesAsync(
            pipeline, sample, u => UserPresenceState.Default(u) with { State = PresenceState.Online, LastActiveTs = now }, cancellationToken).ConfigureAwait(false);
        return ([.. users], [.. mismatches.Select(m => $"{m.Kind}: receiver {m.Receiver}, sender {m.Sender}")]);
    }

    /// <summary>
    /// The user ids written in the configuration, as values or as mapping keys. Values keep an MXID whole; a key comes
    /// apart at every ':' (IConfiguration paths), so an MXID key is its '@' segment and the next one, plus the one after
    /// when that is a port, not a list index: <c>routes:@bob:example.org:0</c> is the first item of the list under
    /// <c>@bob:example.org</c>, not the user <c>@bob:example.org:0</c>.
    /// </summary>
    private static SortedSet<string> ConfiguredUsers(IConfiguration configuration)
    {
        var users = new SortedSet<string>(StringComparer.Ordinal);
        // The leaves only: a parent section's key stops short of its children's, maybe in the middle of an MXID key.
        foreach (KeyValuePair<string, string?> entry in configuration.AsEnumerable().Where(e => e.Value is not null))
        {
            foreach (Match match in MxidPattern().Matches(entry.Value!))
            {
                if (UserId.TryParse(match.Value, out _))
                {
                    users.Add(match.Value);
                }
            }

            string[] segments = entry.Key.Split(ConfigurationPath.KeyDelimiter);
            for (int i = 0; i + 1 < segments.Length; i++)
            {
                if (!segments[i].StartsWith('@'))
                {
                    continue;
                }

                string user = $"{segments[i]}:{segments[i + 1]}";
                if (i + 2 < segments.Length && segments[i + 2].Length > 0 && segments[i + 2].All(char.IsAsciiDigit)
                    && !IsList(configuration.GetSection(string.Join(ConfigurationPath.KeyDelimiter, segments[..(i + 2)]))))
                {
                    user += $":{segments[i + 2]}";
                }

                if (UserId.TryParse(user, out _))
                {
                    users.Add(user);
                }
            }
        }

        return users;
    }

    /// <summary>Whether a section is a list: its children are keyed 0, 1, 2, ... (a YAML sequence, flattened).</summary>
    private static bool IsList(IConfigurationSection section)
    {
        var keys = section.GetChildren().Select(c => c.Key).ToHashSet(StringComparer.Ordinal);
        return keys.Count > 0 && Enumerable.Range(0, keys.Count).All(i => keys.Contains(i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    // An MXID inside a configuration value.
    [GeneratedRegex(@"@[^\s:""'\]\[,]+:[A-Za-z0-9.\-]+(?::\d+)?")]
    private static partial Regex MxidPattern();

    private sealed class NoOperations : IPresenceModuleOperations
    {
        public Task SendLocalOnlinePresenceToAsync(IReadOnlyList<UserId> userIds) => Task.CompletedTask;

        public Task SetPresenceForUsersAsync(IReadOnlyDictionary<UserId, PresenceUpdate> updates) => Task.CompletedTask;

        public IReadOnlyList<UserId> GetUsersInRoom(RoomId roomId) => [];

        public IReadOnlyList<string> GetRoomsForUser(UserId userId) => [];
    }
}
