using System.Collections.Immutable;
using PresenceGrid.Matrix;

namespace PresenceGrid.Presence;

/// <summary>Result of <see cref="PresenceStateMachine.HandleUpdate"/> (Synapse's <c>(new_state, persist_and_notify, federation_ping)</c> plus the timers).</summary>
/// <param name="NewState">The state to store (with <c>currently_active</c> and <c>last_federation_update_ts</c> adjusted).</param>
/// <param name="Notify">Persist now and notify interested parties (local syncs and remote servers).</param>
/// <param name="Reason">Why <paramref name="Notify"/> is set, or <see cref="NotifyReason.None"/>.</param>
/// <param name="FederationPing">A keep-alive should be sent to remote servers (only acted on when not notifying).</param>
/// <param name="InsertedTimers">The timers Synapse would insert (none in persist mode).</param>
internal readonly record struct PresenceUpdateResult(
    UserPresenceState NewState,
    bool Notify,
    NotifyReason Reason,
    bool FederationPing,
    PresenceTimerSet InsertedTimers)
{
    /// <summary>The timers Synapse would insert, as an array (made on each read).</summary>
    public ImmutableArray<PresenceTimer> Timers => InsertedTimers.ToImmutableArray();
}

/// <summary>Result of <see cref="PresenceStateMachine.HandleTimeout"/>.</summary>
/// <param name="NewState">The state to pass to <see cref="PresenceStateMachine.HandleUpdate"/>, or <see langword="null"/> when nothing is due (Synapse returns None).</param>
/// <param name="Devices">The devices after idling and removal; they change even when <paramref name="NewState"/> is null.</param>
internal sealed record PresenceTimeoutResult(UserPresenceState? NewState, ImmutableArray<DevicePresence> Devices);
