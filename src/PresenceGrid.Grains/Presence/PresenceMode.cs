namespace PresenceGrid.Presence;

/// <summary>The <c>presence.enabled</c> setting (true, false or <c>"untracked"</c>).</summary>
public enum PresenceMode
{
    /// <summary>Presence is enabled and tracked: syncs, PUTs and timers drive it (<c>enabled: true</c>).</summary>
    Enabled = 0,

    /// <summary>Presence is off: nothing is committed (<c>enabled: false</c>).</summary>
    Disabled = 1,

    /// <summary>
    /// Presence is enabled but not tracked (<c>enabled: "untracked"</c>): client input is ignored, only module updates
    /// apply, and they are committed without timers, so they persist until changed.
    /// </summary>
    Untracked = 2,
}
