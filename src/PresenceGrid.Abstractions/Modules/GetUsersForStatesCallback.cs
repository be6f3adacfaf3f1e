using PresenceGrid.Matrix;

namespace PresenceGrid.Modules;

/// <summary>
/// A presence router's <c>get_users_for_states</c> callback (Synapse v1.42): "who should additionally receive these updates".
/// </summary>
/// <remarks>
/// <para>Return a dictionary mapping a user id (local or remote MXID) to the states of <paramref name="states"/> that user should
/// additionally receive. The results of all registered callbacks are merged by union per user, in registration order.</para>
/// <para>Returning <see langword="null"/>, throwing, or not completing within <see cref="RouterOptions.ModuleCallbackTimeout"/> makes the
/// whole result of this call be skipped (logged and counted). A <see langword="null"/> set or an invalid MXID key stops the merge of
/// the remaining entries of this result; the entries before it are kept (Synapse's "not a set" rule).</para>
/// <para>The callback must line up with <see cref="GetInterestedUsersCallback"/>: if it routes the state of user S to user R, then
/// <c>get_interested_users(R)</c> must include S (or return ALL), and vice versa. Dictionaries are merged in their enumeration
/// order, so use <see cref="Dictionary{TKey, TValue}"/> without removals when order matters.</para>
/// </remarks>
/// <param name="states">The batch of updated states. Do not keep a reference to it after the returned task completes.</param>
/// <returns>The additional recipients and the states each receives, or <see langword="null"/>.</returns>
public delegate Task<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>?> GetUsersForStatesCallback(
    IReadOnlyList<UserPresenceState> states);
