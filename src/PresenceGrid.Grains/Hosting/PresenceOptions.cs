using PresenceGrid.Matrix;
using PresenceGrid.Presence;

namespace PresenceGrid.Hosting;

/// <summary>The presence configuration of the grid (Synapse's <c>presence:</c> block and neighbours).</summary>
public sealed class PresenceOptions
{
    /// <summary>The local server names: users <c>@*:name</c> are local, all others remote. At least one.</summary>
    public IList<string> ServerNames { get; } = [];

    /// <summary><c>presence.enabled</c>: true, false or untracked. Default: enabled.</summary>
    public PresenceMode Mode { get; set; } = PresenceMode.Enabled;

    /// <summary><c>presence.include_offline_users_on_sync</c>. Default false.</summary>
    public bool IncludeOfflineUsersOnSync { get; set; }

    /// <summary>Accept <c>org.matrix.msc3026.busy</c> from clients (<c>experimental_features.msc3026_enabled</c>). Default false.</summary>
    public bool BusyEnabled { get; set; }

    /// <summary><c>exclude_rooms_from_presence</c>: rooms whose membership neither routes presence nor makes it visible.</summary>
    public IList<string> ExcludeRoomsFromPresence { get; } = [];

    /// <summary>The state machine's timers and the <c>rc_presence</c> rate limit.</summary>
    public PresenceTimings Timings { get; set; } = new();

    /// <summary>
    /// Rooms with at least this many joined members are broadcast rooms: they also log their changes,
    /// so a member's sync reads the log instead of looking at every member of the changed room. Default 500.
    /// </summary>
    public int BroadcastRoomThreshold { get; set; } = 500;

    /// <summary>How many recent changes a broadcast room keeps for incremental syncs. Default 4,096.</summary>
    public int BroadcastRoomLogCapacity { get; set; } = 4096;

    /// <summary>The longest a sync may wait for new events (a client's <c>timeout</c> is capped to it). Default 5 minutes.</summary>
    public TimeSpan MaxSyncTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>True when <paramref name="userId"/> belongs to a local server name.</summary>
    /// <param name="userId">The user.</param>
    /// <returns>Whether the user is local.</returns>
    public bool IsMine(UserId userId)
    {
        ArgumentNullException.ThrowIfNull(userId);
        return IsMine(userId.Server);
    }

    /// <summary>True when <paramref name="serverName"/> is one of the local server names (compared ignoring case).</summary>
    /// <param name="serverName">A server name.</param>
    /// <returns>Whether users of that server are local.</returns>
    public bool IsMine(ServerName serverName)
    {
        ArgumentNullException.ThrowIfNull(serverName);
        string server = serverName.ToString();
        IList<string> names = ServerNames;
        for (int i = 0; i < names.Count; i++) // by index: a foreach over the interface would box an enumerator per call
        {
            if (string.Equals(names[i], server, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
