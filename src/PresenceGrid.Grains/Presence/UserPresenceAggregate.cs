using System.Collections.Immutable;
using PresenceGrid.Matrix;

namespace PresenceGrid.Presence;

/// <summary>
/// Everything the presence writer keeps for one user: the committed <see cref="UserPresenceState"/> and, for local
/// users, the per-device states (including the edge-triggered syncing leases). Immutable; equality compares the
/// devices element by element.
/// </summary>
/// <param name="State">The committed state.</param>
/// <param name="Devices">The devices (always empty for remote users).</param>
/// <param name="IsMine">Whether the user is local to this server.</param>
internal readonly record struct UserPresenceAggregate(UserPresenceState State, ImmutableArray<DevicePresence> Devices, bool IsMine)
{
    /// <summary>A user we know nothing about: default state, no devices.</summary>
    /// <param name="userId">The user.</param>
    /// <param name="isMine">Whether the user is local.</param>
    /// <returns>The aggregate.</returns>
    public static UserPresenceAggregate Create(UserId userId, bool isMine) =>
        new(UserPresenceState.Default(userId), [], isMine);

    /// <summary>
    /// Rebuilds the aggregate from a stored row at startup (Synapse <c>PresenceHandler.__init__</c>): a non-offline local
    /// user gets a pseudo-device (device id null) copying state, last_active and last_user_sync, not syncing, so that it
    /// times out unless a real device takes over.
    /// </summary>
    /// <param name="stored">The persisted state.</param>
    /// <param name="isMine">Whether the user is local.</param>
    /// <returns>The aggregate.</returns>
    public static UserPresenceAggregate Restore(UserPresenceState stored, bool isMine)
    {
        ArgumentNullException.ThrowIfNull(stored);
        ImmutableArray<DevicePresence> devices = isMine && stored.State != PresenceState.Offline
            ? [new DevicePresence(null, stored.State, stored.LastActiveTs, stored.LastUserSyncTs)]
            : [];
        return new UserPresenceAggregate(stored, devices, isMine);
    }

    /// <summary>The user.</summary>
    public UserId UserId => State.UserId;

    /// <summary>Finds a device by id (ordinal; null matches the pseudo-device).</summary>
    /// <param name="deviceId">The device id.</param>
    /// <returns>The device, or <see langword="null"/>.</returns>
    public DevicePresence? FindDevice(string? deviceId)
    {
        foreach (var device in Devices)
        {
            if (string.Equals(device.DeviceId, deviceId, StringComparison.Ordinal))
            {
                return device;
            }
        }

        return null;
    }

    /// <summary>Whether the given device is syncing at <paramref name="now"/>.</summary>
    /// <param name="deviceId">The device id.</param>
    /// <param name="now">Current time, ms.</param>
    /// <returns><see langword="true"/> when the device exists and its lease is live.</returns>
    public bool IsSyncing(string? deviceId, long now) => FindDevice(deviceId)?.IsSyncingAt(now) == true;

    /// <summary>Returns a copy with <paramref name="device"/> replacing the device of the same id, or appended.</summary>
    /// <param name="device">The new device state.</param>
    /// <returns>The new device list.</returns>
    public ImmutableArray<DevicePresence> WithDevice(DevicePresence device)
    {
        for (var i = 0; i < Devices.Length; i++)
        {
            if (string.Equals(Devices[i].DeviceId, device.DeviceId, StringComparison.Ordinal))
            {
                return Devices.SetItem(i, device);
            }
        }

        return Devices.Add(device);
    }

    /// <inheritdoc />
    public bool Equals(UserPresenceAggregate other) =>
        IsMine == other.IsMine
        && State == other.State
        && Devices.AsSpan().SequenceEqual(other.Devices.AsSpan());

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(State, IsMine, Devices.Length);
}
