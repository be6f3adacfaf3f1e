using System.Collections.Immutable;
using PresenceGrid.Matrix;

namespace PresenceGrid.Presence;

/// <summary>
/// Presence of one device of a local user (Synapse <c>UserDevicePresenceState</c>, made immutable).
/// </summary>
/// <param name="DeviceId">The device; <see langword="null"/> for the pseudo-device of a restored state or for callers without a device.</param>
/// <param name="State">The device's presence.</param>
/// <param name="LastActiveTs">Last activity of this device, ms since the epoch.</param>
/// <param name="LastSyncTs">Last sync start (or stop) of this device, ms since the epoch.</param>
/// <param name="SyncingUntil">
/// Edge-triggered syncing lease: <see langword="null"/> when the device is not syncing, otherwise the last instant (ms)
/// at which it still counts as syncing (last start or keep-alive + <see cref="PresenceTimings.SyncKeepAliveExpiry"/>).
/// This replaces Synapse's in-flight sync counters and external-process sets.
/// </param>
internal readonly record struct DevicePresence(
    string? DeviceId,
    PresenceState State,
    long LastActiveTs,
    long LastSyncTs,
    long? SyncingUntil = null)
{
    private const long NotSyncing = long.MinValue;

    // Kept without a nullable's flag (and its padding): one device per online user makes the 8 bytes count.
    private readonly long _syncingUntil = SyncingUntil ?? NotSyncing;

    /// <summary>The syncing lease's last instant (ms), or <see langword="null"/> when the device is not syncing.</summary>
    public long? SyncingUntil
    {
        get => _syncingUntil == NotSyncing ? null : _syncingUntil;
        init => _syncingUntil = value ?? NotSyncing;
    }

    /// <summary>A new device entry: offline, 0, 0, not syncing.</summary>
    /// <param name="deviceId">The device id.</param>
    /// <returns>The default device state.</returns>
    public static DevicePresence Default(string? deviceId) => new(deviceId, PresenceState.Offline, 0, 0);

    /// <summary>Whether the device is in the "syncing set" at <paramref name="now"/> (lease present and not expired).</summary>
    /// <param name="now">Current time, ms since the epoch.</param>
    /// <returns><see langword="true"/> while syncing.</returns>
    public bool IsSyncingAt(long now) => SyncingUntil is { } until && now <= until;

    /// <summary>
    /// Combines device states into the user's state (Synapse <c>_combine_device_states</c>):
    /// busy &gt; online &gt; unavailable &gt; offline; no devices gives offline. Synapse breaks ties by newest
    /// <c>last_active_ts</c>, which cannot change the resulting value, so it is not modelled.
    /// </summary>
    /// <param name="devices">The user's devices.</param>
    /// <returns>The combined presence.</returns>
    public static PresenceState Combine(ImmutableArray<DevicePresence> devices)
    {
        var best = PresenceState.Offline;
        foreach (var device in devices)
        {
            if (Priority(device.State) > Priority(best))
            {
                best = device.State;
            }
        }

        return best;
    }

    /// <summary>Synapse's priorities: busy 4, online 3, unavailable 2, offline 1.</summary>
    /// <param name="state">A presence value.</param>
    /// <returns>The priority.</returns>
    public static int Priority(PresenceState state) => state switch
    {
        PresenceState.Busy => 4,
        PresenceState.Online => 3,
        PresenceState.Unavailable => 2,
        _ => 1,
    };
}
