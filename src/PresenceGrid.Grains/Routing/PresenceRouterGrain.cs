using Orleans.Concurrency;
using PresenceGrid.Matrix;

namespace PresenceGrid.Routing;

/// <summary>
/// The presence router: evaluates the routing modules' callbacks. A stateless worker, so every silo
/// runs it locally and it never becomes a hot spot; the fan-out calls it once per batch of updates.
/// </summary>
[Alias("pg.IPresenceRouterGrain")]
public interface IPresenceRouterGrain : IGrainWithStringKey
{
    /// <summary>Merged <c>get_users_for_states</c> of the modules over a batch of states.</summary>
    /// <param name="states">The batch.</param>
    /// <returns>Recipient → the states it gets.</returns>
    Task<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>> GetUsersForStates(IReadOnlyList<UserPresenceState> states);

    /// <summary>Merged <c>get_interested_users</c> of the modules.</summary>
    /// <param name="userId">The (local) user.</param>
    /// <returns>Extra users, or ALL.</returns>
    Task<PresenceInterest> GetInterestedUsers(string userId);

    /// <summary>Merged room-recipient replacements (beyond Synapse; opt-in by modules).</summary>
    /// <param name="states">The batch.</param>
    /// <returns>Sender → its room-based recipients, or null when no module replaces any.</returns>
    Task<IReadOnlyDictionary<string, IReadOnlySet<string>>?> ReplaceRoomRecipients(IReadOnlyList<UserPresenceState> states);
}

/// <summary>The router grain: a local stateless worker over the silo's module pipeline.</summary>
[StatelessWorker, Reentrant, GrainType("router")]
internal sealed class PresenceRouterGrain(IPresenceRouting routing) : Grain, IPresenceRouterGrain
{
    /// <summary>The key every caller uses.</summary>
    public const string Key = "router";

    public Task<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>> GetUsersForStates(IReadOnlyList<UserPresenceState> states) =>
        routing.GetUsersForStatesAsync(states);

    public Task<PresenceInterest> GetInterestedUsers(string userId) => routing.GetInterestedUsersAsync(userId);

    public Task<IReadOnlyDictionary<string, IReadOnlySet<string>>?> ReplaceRoomRecipients(IReadOnlyList<UserPresenceState> states) =>
        routing.ReplaceRoomRecipientsAsync(states);
}
