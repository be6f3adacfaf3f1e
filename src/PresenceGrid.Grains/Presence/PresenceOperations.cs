using System.Collections.Immutable;
using PresenceGrid.Matrix;

namespace PresenceGrid.Presence;

/// <summary>
/// The inputs of one user's presence (reference §2.3, §2.7, §3, §5) as pure functions over a
/// <see cref="UserPresenceAggregate"/>. An actor owning the user calls one function per input, keeps
/// <see cref="PresenceTransition.Current"/>, acts on the flags and (re)schedules its single timer at
/// <see cref="PresenceTransition.NextWakeupAt"/>, where it calls <see cref="HandleTimer"/>.
/// </summary>
/// <remarks>
/// <para><b>Edge-triggered syncing.</b> Synapse calls <c>user_syncing</c> once per <c>/sync</c> request: the start is a
/// <c>set_state(is_sync=True)</c> and puts (user, device) into the syncing set; the end removes it and sets
/// <c>last_user_sync_ts = now</c>. PresenceGrid maps this onto three edges:</para>
/// <list type="table">
/// <item><term><see cref="StartSyncing"/></term><description>= the start of a sync request with <c>set_presence</c> (and
/// <c>affect_presence</c> true): <c>set_state(is_sync=True)</c> (device state := requested, busy kept, device and
/// user <c>last_active = now</c> when online/busy, device <c>last_sync_ts</c> and user <c>last_user_sync_ts = now</c>,
/// status untouched) and the device enters the syncing set with a lease of
/// <see cref="PresenceTimings.SyncKeepAliveExpiry"/>. <c>set_presence=offline</c> is Synapse's
/// <c>affect_presence=false</c>: nothing happens and the device is not syncing. Calling it again while syncing is one more
/// sync request: it counts as activity (Synapse quirk 5), so a gateway that wants Synapse's "a client that keeps
/// syncing stays online and currently active" re-calls it at most every <see cref="PresenceTimings.WorkerRelayInterval"/>
/// (the PR #19941 relay throttle, below the granularity), while a gateway that wants "syncing is not activity" only
/// sends keep-alives.</description></item>
/// <item><term><see cref="KeepAlive"/></term><description>= "a sync for this device is still in flight": it only renews the
/// lease; it is not activity and changes no committed state. A syncing device is never removed by the sync timeout, but
/// still idles after <see cref="PresenceTimings.IdleTimeout"/> (Synapse's single never-ending sync).</description></item>
/// <item><term><see cref="StopSyncing"/></term><description>= the end of the last in-flight sync of the device (the worker
/// <c>USER_SYNC</c> stop): the device leaves the syncing set, its <c>last_sync_ts</c> and the user's
/// <c>last_user_sync_ts</c> become <c>now</c>, so the device is removed <see cref="PresenceTimings.SyncOnlineTimeout"/>
/// later (busy: <see cref="PresenceTimings.BusyOnlineTimeout"/>) unless it syncs again. Like Synapse's sync workers and
/// unlike its monolith (quirk 6), the device's <c>last_sync_ts</c> is refreshed.</description></item>
/// <item><term>lease expiry</term><description>= Synapse's <c>EXTERNAL_PROCESS_EXPIRY</c> for a silent sync worker: the
/// device stops counting as syncing without a sync-end timestamp, so it is removed at once if it has not synced or been
/// active within the sync timeout.</description></item>
/// </list>
/// <para>Counting concurrent requests per device is the gateway's job: Start on the first in-flight sync, Stop after the
/// last one ends (optionally debounced like <see cref="PresenceTimings.UpdateSyncingUsers"/>).</para>
/// <para><b>Timers.</b> Instead of Synapse's 5 s wheel timer, <see cref="PresenceStateMachine.ComputeNextWakeup"/> gives
/// the exact instant; states reached are those of Synapse, without the 0–10 s wheel lateness (and without Synapse's
/// occasional extra lateness when only a granularity timer is pending, e.g. a PUT online without sync goes offline after
/// 30 s here, 30–65 s in Synapse).</para>
/// <para>All operations are no-ops when presence is <see cref="PresenceMode.Disabled"/>; client inputs, timers and
/// federation input are no-ops when it is <see cref="PresenceMode.Untracked"/> (only <see cref="SetPresenceFromModule"/>
/// applies).</para>
/// </remarks>
internal static class PresenceOperations
{
    /// <summary>
    /// Synapse <c>set_state(user, device, {presence, status_msg}, force_notify, is_sync=False)</c>: PUT
    /// <c>/presence/{userId}/status</c> and device-aware module calls. The status is replaced (null clears it).
    /// </summary>
    /// <param name="aggregate">The user's aggregate (must be local).</param>
    /// <param name="deviceId">The requesting device (null for device-less callers).</param>
    /// <param name="presence">The requested presence (already validated, busy only when MSC3026 is on).</param>
    /// <param name="statusMsg">The new status, or null to clear it.</param>
    /// <param name="now">Current time, ms.</param>
    /// <param name="timings">The timings.</param>
    /// <param name="mode">The presence mode.</param>
    /// <param name="forceNotify">Notify even if nothing changed.</param>
    /// <returns>The transition.</returns>
    public static PresenceTransition SetState(
        UserPresenceAggregate aggregate,
        string? deviceId,
        PresenceState presence,
        string? statusMsg,
        long now,
        PresenceTimings timings,
        PresenceMode mode = PresenceMode.Enabled,
        bool forceNotify = false)
    {
        StatusMessageRules.Validate(statusMsg);
        return SetStateCore(aggregate, deviceId, presence, statusMsg, isSync: false, syncingUntil: null, now, timings, mode, forceNotify);
    }

    /// <summary>
    /// A sync request starts for <paramref name="deviceId"/> with <c>set_presence</c> = <paramref name="setPresence"/>
    /// (see the class remarks for the mapping). Offline means "do not affect presence": a no-op.
    /// </summary>
    /// <param name="aggregate">The user's aggregate (must be local).</param>
    /// <param name="deviceId">The syncing device.</param>
    /// <param name="setPresence">The requested presence (online by default in the API layer).</param>
    /// <param name="now">Current time, ms.</param>
    /// <param name="timings">The timings.</param>
    /// <param name="mode">The presence mode.</param>
    /// <returns>The transition.</returns>
    public static PresenceTransition StartSyncing(
        UserPresenceAggregate aggregate,
        string? deviceId,
        PresenceState setPresence,
        long now,
        PresenceTimings timings,
        PresenceMode mode = PresenceMode.Enabled)
    {
        ArgumentNullException.ThrowIfNull(timings);
        if (setPresence == PresenceState.Offline)
        {
            return NoOp(aggregate, now, timings, mode);
        }

        return SetStateCore(aggregate, deviceId, setPresence, statusMsg: null, isSync: true, now + timings.SyncKeepAliveExpiryMs, now, timings, mode, forceNotify: false);
    }

    /// <summary>
    /// A sync for <paramref name="deviceId"/> is still in flight: renews the syncing lease. Not activity; no committed
    /// state changes. A device that is not (or no longer) known as syncing is left alone: call
    /// <see cref="StartSyncing"/> instead (check with <see cref="UserPresenceAggregate.IsSyncing"/>).
    /// </summary>
    /// <param name="aggregate">The user's aggregate.</param>
    /// <param name="deviceId">The syncing device.</param>
    /// <param name="now">Current time, ms.</param>
    /// <param name="timings">The timings.</param>
    /// <param name="mode">The presence mode.</param>
    /// <returns>The transition (the state is unchanged; only the device lease and the wake-up move).</returns>
    public static PresenceTransition KeepAlive(
        UserPresenceAggregate aggregate,
        string? deviceId,
        long now,
        PresenceTimings timings,
        PresenceMode mode = PresenceMode.Enabled)
    {
        ArgumentNullException.ThrowIfNull(timings);
        var device = aggregate.FindDevice(deviceId);
        if (mode != PresenceMode.Enabled || device is not { SyncingUntil: not null } syncing)
        {
            return NoOp(aggregate, now, timings, mode);
        }

        var current = aggregate with { Devices = aggregate.WithDevice(syncing with { SyncingUntil = now + timings.SyncKeepAliveExpiryMs }) };
        return PresenceTransition.Quiet(aggregate, current, NextWakeup(current, now, timings, mode));
    }

    /// <summary>
    /// The last in-flight sync of <paramref name="deviceId"/> ended: the device leaves the syncing set and
    /// <c>last_sync_ts</c> (device) and <c>last_user_sync_ts</c> (user) become <paramref name="now"/>. A device that was
    /// not syncing is left alone (Synapse's null context for <c>affect_presence=false</c>).
    /// </summary>
    /// <param name="aggregate">The user's aggregate.</param>
    /// <param name="deviceId">The device.</param>
    /// <param name="now">Current time, ms.</param>
    /// <param name="timings">The timings.</param>
    /// <param name="mode">The presence mode.</param>
    /// <returns>The transition (never notifies by itself; may ping).</returns>
    public static PresenceTransition StopSyncing(
        UserPresenceAggregate aggregate,
        string? deviceId,
        long now,
        PresenceTimings timings,
        PresenceMode mode = PresenceMode.Enabled)
    {
        ArgumentNullException.ThrowIfNull(timings);
        var device = aggregate.FindDevice(deviceId);
        if (mode != PresenceMode.Enabled || device is not { SyncingUntil: not null } syncing)
        {
            return NoOp(aggregate, now, timings, mode);
        }

        var devices = aggregate.WithDevice(syncing with { SyncingUntil = null, LastSyncTs = now });
        var proposed = ProposedPresence.Of(aggregate.State) with { LastUserSyncTs = now };
        return Commit(aggregate, devices, proposed, now, timings, mode, forceNotify: false);
    }

    /// <summary>
    /// Synapse <c>bump_presence_active_time</c>: a message, receipt, read marker or typing notification from the device.
    /// The device's last_active becomes now and an unavailable device becomes online (an offline one stays offline); the
    /// user gets last_active = now and the combined state.
    /// </summary>
    /// <param name="aggregate">The user's aggregate (must be local).</param>
    /// <param name="deviceId">The active device.</param>
    /// <param name="now">Current time, ms.</param>
    /// <param name="timings">The timings.</param>
    /// <param name="mode">The presence mode.</param>
    /// <returns>The transition.</returns>
    public static PresenceTransition BumpActiveTime(
        UserPresenceAggregate aggregate,
        string? deviceId,
        long now,
        PresenceTimings timings,
        PresenceMode mode = PresenceMode.Enabled)
    {
        ArgumentNullException.ThrowIfNull(timings);
        if (mode != PresenceMode.Enabled)
        {
            return NoOp(aggregate, now, timings, mode);
        }

        var device = (aggregate.FindDevice(deviceId) ?? DevicePresence.Default(deviceId)) with { LastActiveTs = now };
        if (device.State == PresenceState.Unavailable)
        {
            device = device with { State = PresenceState.Online };
        }

        var devices = aggregate.WithDevice(device);
        var proposed = ProposedPresence.Of(aggregate.State) with { LastActiveTs = now, State = DevicePresence.Combine(devices) };
        return Commit(aggregate, devices, proposed, now, timings, mode, forceNotify: false);
    }

    /// <summary>
    /// The user's timer fired (Synapse <c>_handle_timeouts</c> for one user): <see cref="PresenceStateMachine.HandleTimeout"/>
    /// then, when it returns a state, <see cref="PresenceStateMachine.HandleUpdate"/>. Safe to call at any time.
    /// </summary>
    /// <param name="aggregate">The user's aggregate.</param>
    /// <param name="now">Current time, ms.</param>
    /// <param name="timings">The timings.</param>
    /// <param name="mode">The presence mode.</param>
    /// <returns>The transition.</returns>
    public static PresenceTransition HandleTimer(
        UserPresenceAggregate aggregate,
        long now,
        PresenceTimings timings,
        PresenceMode mode = PresenceMode.Enabled)
    {
        ArgumentNullException.ThrowIfNull(timings);
        if (mode != PresenceMode.Enabled)
        {
            return NoOp(aggregate, now, timings, mode);
        }

        var timeout = PresenceStateMachine.HandleTimeout(aggregate.State, aggregate.IsMine, aggregate.Devices, now, timings);
        if (timeout.NewState is null)
        {
            var current = aggregate with { Devices = timeout.Devices };
            return PresenceTransition.Quiet(aggregate, current, NextWakeup(current, now, timings, mode));
        }

        return Commit(aggregate, timeout.Devices, ProposedPresence.Of(timeout.NewState), now, timings, mode, forceNotify: false);
    }

    /// <summary>
    /// An item of an incoming <c>m.presence</c> EDU for this remote user (§5): the origin check is the caller's
    /// (<see cref="FederationPresenceUpdate.IsFrom"/>). Untracked or disabled presence drops it.
    /// </summary>
    /// <param name="aggregate">The remote user's aggregate.</param>
    /// <param name="update">The validated item.</param>
    /// <param name="now">Receive time, ms.</param>
    /// <param name="timings">The timings.</param>
    /// <param name="mode">The presence mode.</param>
    /// <returns>The transition (notifies local parties per <see cref="PresenceStateMachine.ShouldNotify"/>).</returns>
    public static PresenceTransition ApplyFederationUpdate(
        UserPresenceAggregate aggregate,
        FederationPresenceUpdate update,
        long now,
        PresenceTimings timings,
        PresenceMode mode = PresenceMode.Enabled)
    {
        ArgumentNullException.ThrowIfNull(update);
        ArgumentNullException.ThrowIfNull(timings);
        if (aggregate.IsMine || !update.UserId.Equals(aggregate.UserId))
        {
            throw new ArgumentException("A federation update must target the remote user the aggregate belongs to.", nameof(update));
        }

        if (mode != PresenceMode.Enabled)
        {
            return NoOp(aggregate, now, timings, mode);
        }

        return Commit(aggregate, aggregate.Devices, ProposedPresence.Of(update.ApplyTo(aggregate.State, now)), now, timings, mode, forceNotify: false);
    }

    /// <summary>
    /// <c>ModuleApi.set_presence_for_users</c>: replaces state and status, bypassing devices and validation, and always
    /// notifies. In <see cref="PresenceMode.Untracked"/> mode no timers apply, so the state persists until changed.
    /// Works for remote users too.
    /// </summary>
    /// <param name="aggregate">The user's aggregate.</param>
    /// <param name="presence">The new presence.</param>
    /// <param name="statusMsg">The new status (null clears).</param>
    /// <param name="now">Current time, ms.</param>
    /// <param name="timings">The timings.</param>
    /// <param name="mode">The presence mode.</param>
    /// <returns>The transition.</returns>
    public static PresenceTransition SetPresenceFromModule(
        UserPresenceAggregate aggregate,
        PresenceState presence,
        string? statusMsg,
        long now,
        PresenceTimings timings,
        PresenceMode mode = PresenceMode.Enabled)
    {
        ArgumentNullException.ThrowIfNull(timings);
        if (mode == PresenceMode.Disabled)
        {
            return NoOp(aggregate, now, timings, mode);
        }

        var proposed = ProposedPresence.Of(aggregate.State) with { State = presence, StatusMsg = statusMsg };
        return Commit(aggregate, aggregate.Devices, proposed, now, timings, mode, forceNotify: true);
    }

    /// <summary>
    /// A state mirrored from the homeserver that owns it (<c>POST /v1/ingest/states</c>, docs/synapse.md): recorded
    /// exactly as given, all seven fields, without the state machine. The devices are dropped and no wake-up is
    /// scheduled (the owner times the user out and mirrors that too), so no grid timer fights the owner. It notifies when
    /// what a reader sees changes (state, status, <c>currently_active</c>, <c>last_active_ts</c>); a change of the
    /// other two timestamps only (a federation ping, a sync end) is kept quietly; the same state again is a no-op.
    /// Disabled presence ignores it, as it ignores <see cref="SetPresenceFromModule"/>.
    /// </summary>
    /// <param name="aggregate">The user's aggregate (local or remote).</param>
    /// <param name="state">The owner's state of that user.</param>
    /// <param name="now">Current time, ms.</param>
    /// <param name="timings">The timings.</param>
    /// <param name="mode">The presence mode.</param>
    /// <returns>The transition; its <see cref="PresenceTransition.NextWakeupAt"/> is null unless disabled presence ignored it.</returns>
    /// <exception cref="ArgumentException">The state is another user's.</exception>
    public static PresenceTransition Mirror(
        UserPresenceAggregate aggregate,
        UserPresenceState state,
        long now,
        PresenceTimings timings,
        PresenceMode mode = PresenceMode.Enabled)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(timings);
        if (!state.UserId.Equals(aggregate.UserId))
        {
            throw new ArgumentException($"A mirrored state of {state.UserId} cannot apply to {aggregate.UserId}.", nameof(state));
        }

        if (mode == PresenceMode.Disabled)
        {
            return NoOp(aggregate, now, timings, mode);
        }

        UserPresenceState previous = aggregate.State;
        NotifyReason reason =
            previous.State != state.State ? NotifyReason.StateChange
            : !string.Equals(previous.StatusMsg, state.StatusMsg, StringComparison.Ordinal) ? NotifyReason.StatusMsgChange
            : previous.CurrentlyActive != state.CurrentlyActive ? NotifyReason.CurrentlyActiveChange
            : previous.LastActiveTs != state.LastActiveTs
                ? state.State == PresenceState.Online ? NotifyReason.LastActiveChangeOnline : NotifyReason.LastActiveChangeNotOnline
            : NotifyReason.None;
        var current = aggregate with { State = state, Devices = [] };
        return new PresenceTransition(aggregate, current, reason != NotifyReason.None, reason, false, false, default, null);
    }

    private static PresenceTransition SetStateCore(
        UserPresenceAggregate aggregate,
        string? deviceId,
        PresenceState presence,
        string? statusMsg,
        bool isSync,
        long? syncingUntil,
        long now,
        PresenceTimings timings,
        PresenceMode mode,
        bool forceNotify)
    {
        ArgumentNullException.ThrowIfNull(timings);
        // A range check, not Enum.IsDefined: that boxed the value on every update (the values are 0..3).
        if (presence is < PresenceState.Offline or > PresenceState.Busy)
        {
            throw new ArgumentOutOfRangeException(nameof(presence), presence, "Invalid presence state");
        }

        if (mode != PresenceMode.Enabled)
        {
            return NoOp(aggregate, now, timings, mode);
        }

        if (!aggregate.IsMine)
        {
            throw new ArgumentException("set_state applies to local users only.", nameof(aggregate));
        }

        var prev = aggregate.State;

        // Syncs never lower busy (and re-force it on any device: Synapse quirk 4, kept).
        if (prev.State == PresenceState.Busy && isSync)
        {
            presence = PresenceState.Busy;
        }

        var device = (aggregate.FindDevice(deviceId) ?? DevicePresence.Default(deviceId)) with
        {
            State = presence,
            LastActiveTs = now,
        };
        if (isSync)
        {
            device = device with { LastSyncTs = now, SyncingUntil = syncingUntil };
        }

        var devices = aggregate.WithDevice(device);
        var combined = DevicePresence.Combine(devices);

        // One new state, not one per changed field (made by handle_update, which changes two more).
        var proposed = ProposedPresence.Of(prev) with
        {
            State = combined,
            LastActiveTs = combined is PresenceState.Online or PresenceState.Busy ? now : prev.LastActiveTs,
            LastUserSyncTs = isSync ? now : prev.LastUserSyncTs,
            StatusMsg = isSync ? prev.StatusMsg : statusMsg,
        };
        return Commit(aggregate, devices, proposed, now, timings, mode, forceNotify);
    }

    private static PresenceTransition Commit(
        UserPresenceAggregate aggregate,
        ImmutableArray<DevicePresence> devices,
        in ProposedPresence proposed,
        long now,
        PresenceTimings timings,
        PresenceMode mode,
        bool forceNotify)
    {
        var result = PresenceStateMachine.HandleProposal(
            aggregate.State, proposed, aggregate.IsMine, now, timings, persist: mode != PresenceMode.Enabled);
        var current = aggregate with { State = result.NewState, Devices = devices };
        return new PresenceTransition(
            aggregate,
            current,
            result.Notify || forceNotify,
            result.Reason,
            forceNotify,
            result.FederationPing,
            result.InsertedTimers,
            NextWakeup(current, now, timings, mode));
    }

    private static PresenceTransition NoOp(UserPresenceAggregate aggregate, long now, PresenceTimings timings, PresenceMode mode)
    {
        return PresenceTransition.NoOp(aggregate, NextWakeup(aggregate, now, timings, mode));
    }

    /// <summary>The next wake-up for an aggregate; none unless presence is tracked.</summary>
    /// <param name="aggregate">The aggregate.</param>
    /// <param name="now">Current time, ms.</param>
    /// <param name="timings">The timings.</param>
    /// <param name="mode">The presence mode.</param>
    /// <returns>The instant, or <see langword="null"/>.</returns>
    public static long? NextWakeup(UserPresenceAggregate aggregate, long now, PresenceTimings timings, PresenceMode mode = PresenceMode.Enabled)
    {
        return mode == PresenceMode.Enabled
            ? PresenceStateMachine.ComputeNextWakeup(aggregate.State, aggregate.IsMine, aggregate.Devices, now, timings)
            : null;
    }
}
