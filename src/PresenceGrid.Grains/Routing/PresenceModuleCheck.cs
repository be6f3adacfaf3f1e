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

        var users = new SortedSet<string>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, string?> entry in configuration.AsEnumerable())
        {
            foreach (string text in new[] { entry.Key, entry.Value ?? string.Empty })
            {
                foreach (Match match in MxidPattern().Matches(text))
                {
                    if (UserId.TryParse(match.Value, out _))
                    {
                        users.Add(match.Value);
                    }
                }
            }
        }

        users.UnionWith(extraUsers);
        UserId[] sample = [.. users.Select(u => UserId.Parse(u, "users"))];
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        IReadOnlyList<RouterMismatch> mismatches = await RouterConsistency.FindMismatchesAsync(
            pipeline, sample, u => UserPresenceState.Default(u) with { State = PresenceState.Online, LastActiveTs = now }, cancellationToken).ConfigureAwait(false);
        return ([.. users], [.. mismatches.Select(m => $"{m.Kind}: receiver {m.Receiver}, sender {m.Sender}")]);
    }

    // MXIDs inside config keys come apart at ':' (IConfiguration paths); values keep them whole.
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
