using PresenceGrid.Matrix;

namespace PresenceGrid.Modules;

/// <summary>
/// Opt-in, beyond Synapse (synapse#10423 "full control"): replaces the default room-based recipients of some senders.
/// </summary>
/// <remarks>
/// <para>For each sender (a key of the result) the recipients it would get from shared rooms are <em>replaced</em> by the given set;
/// an empty set means "nobody through rooms". The sender itself ("always notify self"), the recipients added by
/// <see cref="GetUsersForStatesCallback"/> and <see cref="InterestedUsers.All"/> interests still apply. Senders the result does not
/// list keep their room-based recipients. When several modules list the same sender, the sets are united.</para>
/// <para>Nothing is replaced unless a module registers this callback through
/// <see cref="IModuleApi.RegisterRoomRecipientsReplacement"/>. Failures are handled like the router callbacks: skipped, logged and counted.</para>
/// </remarks>
/// <param name="states">The batch of updated states.</param>
/// <returns>Sender user id → the user ids that replace its room-based recipients, or <see langword="null"/> to replace nothing.</returns>
public delegate Task<IReadOnlyDictionary<string, IReadOnlySet<string>>?> ReplaceRoomRecipientsCallback(
    IReadOnlyList<UserPresenceState> states);
