using PresenceGrid.Matrix;

namespace PresenceGrid.Presence;

/// <summary>
/// The fields of a proposed state (a <see cref="UserPresenceState"/> without its user), as a value: an operation
/// changes some of them, <c>handle_update</c> changes <c>currently_active</c> and <c>last_federation_update_ts</c>,
/// and only then is one <see cref="UserPresenceState"/> made (an object per step cost a collection's worth of
/// garbage every few hundred thousand updates).
/// </summary>
/// <param name="State">The presence value.</param>
/// <param name="LastActiveTs">Last activity, ms since the epoch.</param>
/// <param name="LastFederationUpdateTs">Last federation send or receipt, ms since the epoch.</param>
/// <param name="LastUserSyncTs">Last sync start or end, ms since the epoch.</param>
/// <param name="StatusMsg">The status message.</param>
/// <param name="CurrentlyActive">Whether the user is currently active.</param>
internal readonly record struct ProposedPresence(
    PresenceState State,
    long LastActiveTs,
    long LastFederationUpdateTs,
    long LastUserSyncTs,
    string? StatusMsg,
    bool CurrentlyActive)
{
    /// <summary>The fields of <paramref name="state"/>.</summary>
    /// <param name="state">A state.</param>
    /// <returns>Its fields.</returns>
    public static ProposedPresence Of(UserPresenceState state) =>
        new(state.State, state.LastActiveTs, state.LastFederationUpdateTs, state.LastUserSyncTs, state.StatusMsg, state.CurrentlyActive);

    /// <summary>The state of <paramref name="userId"/> with these fields.</summary>
    /// <param name="userId">The user.</param>
    /// <returns>A new state.</returns>
    public UserPresenceState ToState(UserId userId) =>
        new(userId, State, LastActiveTs, LastFederationUpdateTs, LastUserSyncTs, StatusMsg, CurrentlyActive);
}
