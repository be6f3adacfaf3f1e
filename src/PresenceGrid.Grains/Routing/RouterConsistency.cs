using PresenceGrid.Matrix;

namespace PresenceGrid.Routing;

/// <summary>How the two router callbacks disagree about one (receiver, sender) pair.</summary>
internal enum RouterMismatchKind
{
    /// <summary><c>get_users_for_states</c> routes the sender's state to the receiver, but <c>get_interested_users(receiver)</c> neither
    /// lists the sender nor returns ALL: the receiver gets live updates but misses the sender on an initial sync.</summary>
    RoutedButNotInterested,

    /// <summary><c>get_interested_users(receiver)</c> lists the sender, but <c>get_users_for_states</c> does not route the sender's state to
    /// the receiver: the receiver sees the sender on an initial sync but misses live updates.</summary>
    InterestedButNotRouted,
}

/// <summary>One disagreement found by <see cref="RouterConsistency.FindMismatchesAsync"/>.</summary>
/// <param name="Receiver">The user who would receive presence.</param>
/// <param name="Sender">The user whose presence it is.</param>
/// <param name="Kind">Which way the callbacks disagree.</param>
internal sealed record RouterMismatch(UserId Receiver, UserId Sender, RouterMismatchKind Kind);

/// <summary>
/// Checks that the registered router callbacks "line up" (Synapse's docs: the results must be complementary) on sampled users.
/// Used by <c>pgrid check-module</c>.
/// </summary>
internal static class RouterConsistency
{
    /// <summary>
    /// Routes one batch holding the state of every sampled user through <c>get_users_for_states</c>, asks
    /// <c>get_interested_users</c> for every sampled user, and reports each (receiver, sender) pair of sampled users where the two disagree.
    /// A receiver whose interest is ALL only gets what is routed to it, so it cannot disagree. Pairs of a user with itself are ignored
    /// (a user always receives its own presence).
    /// </summary>
    /// <param name="pipeline">The loaded pipeline.</param>
    /// <param name="sampleUsers">The users to check, as both receivers and senders.</param>
    /// <param name="statesOf">The state to route for a sampled user (for example its current state, or a synthetic online state).</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>The mismatches, ordered by receiver then sender as sampled; empty when the callbacks line up.</returns>
    public static async Task<IReadOnlyList<RouterMismatch>> FindMismatchesAsync(
        PresenceRouterPipeline pipeline,
        IReadOnlyCollection<UserId> sampleUsers,
        Func<UserId, UserPresenceState> statesOf,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(sampleUsers);
        ArgumentNullException.ThrowIfNull(statesOf);
        var users = sampleUsers.Distinct().ToArray();
        var states = new UserPresenceState[users.Length];
        for (var i = 0; i < users.Length; i++)
        {
            states[i] = statesOf(users[i]);
        }

        var routed = await pipeline.GetUsersForStatesAsync(states, cancellationToken);
        var mismatches = new List<RouterMismatch>();
        foreach (var receiver in users)
        {
            var interest = await pipeline.GetInterestedUsersAsync(receiver, cancellationToken);
            if (interest.IsAll)
            {
                continue;
            }

            var routedSenders = new HashSet<UserId>();
            if (routed.TryGetValue(receiver, out var routedStates))
            {
                foreach (var state in routedStates)
                {
                    routedSenders.Add(state.UserId);
                }
            }

            foreach (var sender in users)
            {
                if (sender == receiver)
                {
                    continue;
                }

                var isRouted = routedSenders.Contains(sender);
                var isInterested = interest.Users.Contains(sender);
                if (isRouted && !isInterested)
                {
                    mismatches.Add(new RouterMismatch(receiver, sender, RouterMismatchKind.RoutedButNotInterested));
                }
                else if (isInterested && !isRouted)
                {
                    mismatches.Add(new RouterMismatch(receiver, sender, RouterMismatchKind.InterestedButNotRouted));
                }
            }
        }

        return mismatches;
    }
}
