namespace PresenceGrid.Presence;

/// <summary>
/// Why <see cref="PresenceStateMachine.ShouldNotify"/> decided to notify; the labels match Synapse's
/// <c>synapse_handler_presence_notify_reason</c> counter.
/// </summary>
internal enum NotifyReason
{
    /// <summary>No notification.</summary>
    None = 0,

    /// <summary><c>status_msg_change</c>.</summary>
    StatusMsgChange,

    /// <summary><c>state_change</c>.</summary>
    StateChange,

    /// <summary><c>current_active_change</c> (old state online, <c>currently_active</c> flipped).</summary>
    CurrentlyActiveChange,

    /// <summary><c>last_active_change_online</c> (online, not currently active, last_active moved by more than the granularity).</summary>
    LastActiveChangeOnline,

    /// <summary><c>last_active_change_not_online</c> (not online, last_active moved by more than the granularity).</summary>
    LastActiveChangeNotOnline,
}

/// <summary>Helpers for <see cref="NotifyReason"/>.</summary>
internal static class NotifyReasons
{
    /// <summary>The Synapse metric label of a reason (<c>reason</c> label of <c>synapse_handler_presence_notify_reason</c>).</summary>
    /// <param name="reason">The reason.</param>
    /// <returns>The label, or an empty string for <see cref="NotifyReason.None"/>.</returns>
    public static string ToMetricLabel(this NotifyReason reason) => reason switch
    {
        NotifyReason.StatusMsgChange => "status_msg_change",
        NotifyReason.StateChange => "state_change",
        NotifyReason.CurrentlyActiveChange => "current_active_change",
        NotifyReason.LastActiveChangeOnline => "last_active_change_online",
        NotifyReason.LastActiveChangeNotOnline => "last_active_change_not_online",
        _ => string.Empty,
    };
}

/// <summary>Result of <see cref="PresenceStateMachine.ShouldNotify"/>.</summary>
/// <param name="Reason">Why to notify, or <see cref="NotifyReason.None"/>.</param>
/// <param name="IsLocal">Whether the user is local (the metric's <c>locality</c> label).</param>
internal readonly record struct NotifyDecision(NotifyReason Reason, bool IsLocal)
{
    /// <summary>Whether interested parties must be notified.</summary>
    public bool ShouldNotify => Reason != NotifyReason.None;

    /// <summary>The metric's <c>locality</c> label: <c>local</c> or <c>remote</c>.</summary>
    public string Locality => IsLocal ? "local" : "remote";
}
