namespace PresenceGrid.Modules;

/// <summary>
/// A presence router's <c>get_interested_users</c> callback (Synapse v1.42): "which users this local user additionally wants presence for".
/// </summary>
/// <remarks>
/// <para>Called whenever presence is computed for a syncing user (every sync that includes presence, and every wake-up), so it must be cheap.
/// Return <see cref="InterestedUsers.All"/> to make the server consider every user's presence and then deliver the states that
/// <see cref="GetUsersForStatesCallback"/> routes to <paramref name="userId"/>; otherwise a set of user ids.</para>
/// <para>If any callback returns ALL, later callbacks are not called. <see langword="null"/>, an exception or a timeout skips this
/// callback (logged and counted); invalid MXIDs in the set are dropped with a warning.</para>
/// </remarks>
/// <param name="userId">The local user whose interests are asked for.</param>
/// <returns>The additional users, <see cref="InterestedUsers.All"/>, or <see langword="null"/>.</returns>
public delegate Task<InterestedUsers?> GetInterestedUsersCallback(string userId);
