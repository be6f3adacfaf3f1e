namespace PresenceGrid.Presence;

/// <summary>The wheel-timer entries Synapse's <c>handle_update</c> inserts.</summary>
internal enum PresenceTimerKind
{
    /// <summary>Local online user: <c>last_active + idle_timeout</c>.</summary>
    Idle,

    /// <summary>Local online, currently active user: <c>last_active + granularity</c> (to clear <c>currently_active</c>).</summary>
    CurrentlyActive,

    /// <summary>Local non-offline user: <c>last_user_sync + sync_online_timeout</c>.</summary>
    SyncTimeout,

    /// <summary>Local busy user: <c>last_user_sync + BUSY_ONLINE_TIMEOUT</c>.</summary>
    BusyTimeout,

    /// <summary>Remote user: <c>last_federation_update + FEDERATION_TIMEOUT</c>.</summary>
    FederationTimeout,
}

/// <summary>One timer inserted by <see cref="PresenceStateMachine.HandleUpdate"/> (Synapse semantics: it fires strictly after <see cref="DueAt"/>).</summary>
/// <param name="Kind">Which timer.</param>
/// <param name="DueAt">The <c>then</c> passed to Synapse's wheel timer, ms since the epoch.</param>
internal readonly record struct PresenceTimer(PresenceTimerKind Kind, long DueAt);
