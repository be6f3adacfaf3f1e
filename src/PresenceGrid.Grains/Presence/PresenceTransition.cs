using System.Collections.Immutable;

namespace PresenceGrid.Presence;

/// <summary>
/// The outcome of one operation on a <see cref="UserPresenceAggregate"/> (what Synapse's <c>_update_states</c> would
/// do with it).
/// </summary>
/// <param name="Previous">The aggregate before the operation.</param>
/// <param name="Current">The aggregate to keep.</param>
/// <param name="Notify">Persist now and notify interested parties: local sync streams and, for local users, remote servers.</param>
/// <param name="Reason">The <see cref="PresenceStateMachine.ShouldNotify"/> reason (<see cref="NotifyReason.None"/> when only forced).</param>
/// <param name="Forced">Notification forced by the caller (<c>force_notify</c>: module API, full-presence snapshots).</param>
/// <param name="FederationPing">Synapse's ping flag; act on it through <see cref="SendFederationPing"/>.</param>
/// <param name="InsertedTimers">The timers Synapse's <c>handle_update</c> would insert (informational; use <paramref name="NextWakeupAt"/>).</param>
/// <param name="NextWakeupAt">When the actor's single timer for this user should fire next (ms), or <see langword="null"/>.</param>
internal readonly record struct PresenceTransition(
    UserPresenceAggregate Previous,
    UserPresenceAggregate Current,
    bool Notify,
    NotifyReason Reason,
    bool Forced,
    bool FederationPing,
    PresenceTimerSet InsertedTimers,
    long? NextWakeupAt)
{
    /// <summary>The timers Synapse's <c>handle_update</c> would insert, as an array (made on each read).</summary>
    public ImmutableArray<PresenceTimer> Timers => InsertedTimers.ToImmutableArray();

    /// <summary>The committed state changed (any field).</summary>
    public bool StateChanged => Previous.State != Current.State;

    /// <summary>Send a keep-alive of the unchanged state to interested remote servers (ping without notification; not on the presence stream).</summary>
    public bool SendFederationPing => FederationPing && !Notify;

    /// <summary>The state changed without notification: persist it lazily (Synapse's 60 s persist loop).</summary>
    public bool PersistLazily => StateChanged && !Notify;

    /// <summary>Nothing changed and nothing is to be sent.</summary>
    public bool IsNoOp => !Notify && !FederationPing && Previous == Current;

    /// <summary>A transition that leaves the aggregate as it is.</summary>
    /// <param name="aggregate">The unchanged aggregate.</param>
    /// <param name="nextWakeupAt">The next wake-up to keep.</param>
    /// <returns>The no-op transition.</returns>
    public static PresenceTransition NoOp(UserPresenceAggregate aggregate, long? nextWakeupAt) => Quiet(aggregate, aggregate, nextWakeupAt);

    /// <summary>A transition that keeps <paramref name="current"/> without notifying, pinging or inserting timers
    /// (a device lease moved, a device expired).</summary>
    /// <param name="previous">The aggregate before.</param>
    /// <param name="current">The aggregate to keep.</param>
    /// <param name="nextWakeupAt">The next wake-up.</param>
    /// <returns>The transition.</returns>
    public static PresenceTransition Quiet(UserPresenceAggregate previous, UserPresenceAggregate current, long? nextWakeupAt) =>
        new(previous, current, false, NotifyReason.None, false, false, default, nextWakeupAt);
}
