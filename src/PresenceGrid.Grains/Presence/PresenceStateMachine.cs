using System.Collections.Immutable;
using PresenceGrid.Matrix;

namespace PresenceGrid.Presence;

/// <summary>
/// Synapse's presence state machine as pure functions (reference §2.5–§2.7). Time is always passed in as
/// milliseconds since the epoch; nothing here reads a clock.
/// </summary>
internal static class PresenceStateMachine
{
    /// <summary>
    /// Synapse <c>handle_update</c> (§2.5). Local users: online ⇒ idle timer and <c>currently_active = now - last_active &lt; granularity</c>
    /// (plus a granularity timer when active); not offline ⇒ sync timer and a federation ping when
    /// <c>now - last_fed &gt; FEDERATION_PING_INTERVAL</c> (setting <c>last_fed = now</c>); busy ⇒ busy timer.
    /// Remote users: a federation-timeout timer. No timers in persist mode. Finally, if <see cref="ShouldNotify"/>,
    /// <c>last_fed = now</c> and notify.
    /// </summary>
    /// <param name="prev">The committed state.</param>
    /// <param name="next">The proposed state.</param>
    /// <param name="isMine">Whether the user is local.</param>
    /// <param name="now">Current time, ms.</param>
    /// <param name="timings">The timings.</param>
    /// <param name="persist">Synapse's <c>persist</c> flag (<c>not track_presence</c>): skip timers.</param>
    /// <returns>The state to store, the notify and ping flags, and the timers.</returns>
    /// <exception cref="ArgumentException">The two states are of different users.</exception>
    public static PresenceUpdateResult HandleUpdate(
        UserPresenceState prev,
        UserPresenceState next,
        bool isMine,
        long now,
        PresenceTimings timings,
        bool persist = false)
    {
        ArgumentNullException.ThrowIfNull(prev);
        ArgumentNullException.ThrowIfNull(next);
        if (!prev.UserId.Equals(next.UserId))
        {
            throw new ArgumentException($"handle_update of {prev.UserId} got a state of {next.UserId}.", nameof(next));
        }

        return HandleProposal(prev, ProposedPresence.Of(next), isMine, now, timings, persist);
    }

    /// <summary>
    /// <see cref="HandleUpdate"/> on the fields of the proposed state (<paramref name="prev"/>'s user's): the state it
    /// returns is the only one made.
    /// </summary>
    /// <param name="prev">The committed state.</param>
    /// <param name="next">The proposed fields.</param>
    /// <param name="isMine">Whether the user is local.</param>
    /// <param name="now">Current time, ms.</param>
    /// <param name="timings">The timings.</param>
    /// <param name="persist">Synapse's <c>persist</c> flag: skip timers.</param>
    /// <returns>The state to store, the notify and ping flags, and the timers.</returns>
    internal static PresenceUpdateResult HandleProposal(
        UserPresenceState prev,
        in ProposedPresence next,
        bool isMine,
        long now,
        PresenceTimings timings,
        bool persist)
    {
        ArgumentNullException.ThrowIfNull(prev);
        ArgumentNullException.ThrowIfNull(timings);

        // At most three timers apply (idle, currently-active and sync, or sync and busy), kept inline.
        var timers = default(PresenceTimerSet);
        var ping = false;

        // The fields this update may change, applied to one new state at the end (not one state per field).
        bool currentlyActive = next.CurrentlyActive;
        long lastFederationUpdateTs = next.LastFederationUpdateTs;
        if (isMine)
        {
            if (next.State == PresenceState.Online)
            {
                if (!persist)
                {
                    timers.Add(new PresenceTimer(PresenceTimerKind.Idle, next.LastActiveTs + timings.IdleTimeoutMs));
                }

                currentlyActive = now - next.LastActiveTs < timings.LastActiveGranularityMs;
                if (currentlyActive && !persist)
                {
                    timers.Add(new PresenceTimer(PresenceTimerKind.CurrentlyActive, next.LastActiveTs + timings.LastActiveGranularityMs));
                }
            }

            if (next.State != PresenceState.Offline)
            {
                if (!persist)
                {
                    timers.Add(new PresenceTimer(PresenceTimerKind.SyncTimeout, next.LastUserSyncTs + timings.SyncOnlineTimeoutMs));
                }

                if (now - lastFederationUpdateTs > timings.FederationPingIntervalMs)
                {
                    lastFederationUpdateTs = now;
                    ping = true;
                }
            }

            if (next.State == PresenceState.Busy && !persist)
            {
                timers.Add(new PresenceTimer(PresenceTimerKind.BusyTimeout, next.LastUserSyncTs + timings.BusyOnlineTimeoutMs));
            }
        }
        else if (!persist)
        {
            timers.Add(new PresenceTimer(PresenceTimerKind.FederationTimeout, lastFederationUpdateTs + timings.FederationTimeoutMs));
        }

        // last_federation_update_ts never decides a notification, so the decision can come first.
        var decision = Decide(prev, next.State, next.StatusMsg, next.LastActiveTs, currentlyActive, isMine, timings);
        if (decision.ShouldNotify)
        {
            lastFederationUpdateTs = now;
        }

        var state = (next with { CurrentlyActive = currentlyActive, LastFederationUpdateTs = lastFederationUpdateTs }).ToState(prev.UserId);
        return new PresenceUpdateResult(state, decision.ShouldNotify, decision.Reason, ping, timers);
    }

    /// <summary>
    /// Synapse <c>should_notify</c> (§2.6), in order: identical ⇒ no; status differs ⇒ <c>status_msg_change</c>;
    /// state differs ⇒ <c>state_change</c>; old online: <c>currently_active</c> differs ⇒ <c>current_active_change</c>,
    /// else a last_active jump &gt; granularity while not currently active ⇒ <c>last_active_change_online</c>;
    /// old not online: a last_active jump &gt; granularity ⇒ <c>last_active_change_not_online</c>.
    /// Changes of <c>last_federation_update_ts</c> or <c>last_user_sync_ts</c> alone never notify.
    /// </summary>
    /// <param name="old">The previous state.</param>
    /// <param name="next">The new state.</param>
    /// <param name="isMine">Whether the user is local (metric locality only).</param>
    /// <param name="timings">Supplies the granularity.</param>
    /// <returns>The decision and its reason.</returns>
    public static NotifyDecision ShouldNotify(UserPresenceState old, UserPresenceState next, bool isMine, PresenceTimings timings)
    {
        ArgumentNullException.ThrowIfNull(old);
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(timings);

        return Decide(old, next.State, next.StatusMsg, next.LastActiveTs, next.CurrentlyActive, isMine, timings);
    }

    // should_notify on the fields that decide it: last_federation_update_ts and last_user_sync_ts never do.
    private static NotifyDecision Decide(
        UserPresenceState old, PresenceState state, string? statusMsg, long lastActiveTs, bool currentlyActive, bool isMine, PresenceTimings timings)
    {
        if (!string.Equals(old.StatusMsg, statusMsg, StringComparison.Ordinal))
        {
            return new NotifyDecision(NotifyReason.StatusMsgChange, isMine);
        }

        if (old.State != state)
        {
            return new NotifyDecision(NotifyReason.StateChange, isMine);
        }

        var granularity = timings.LastActiveGranularityMs;
        if (old.State == PresenceState.Online)
        {
            if (old.CurrentlyActive != currentlyActive)
            {
                return new NotifyDecision(NotifyReason.CurrentlyActiveChange, isMine);
            }

            if (lastActiveTs - old.LastActiveTs > granularity && !currentlyActive)
            {
                return new NotifyDecision(NotifyReason.LastActiveChangeOnline, isMine);
            }
        }
        else if (lastActiveTs - old.LastActiveTs > granularity)
        {
            return new NotifyDecision(NotifyReason.LastActiveChangeNotOnline, isMine);
        }

        return new NotifyDecision(NotifyReason.None, isMine);
    }

    /// <summary>
    /// Synapse <c>handle_timeout</c> (§2.7). Offline ⇒ nothing. Local: per device, an online device idle for more than
    /// idle_timeout becomes unavailable (busy never idles); a device that is not syncing (see
    /// <see cref="DevicePresence.IsSyncingAt"/>) and has neither synced nor been active within sync_online_timeout
    /// (busy: BUSY_ONLINE_TIMEOUT) is removed; if devices changed and the combined state differs, the user takes it.
    /// The state is also returned (for re-evaluation by <see cref="HandleUpdate"/>) when last_active is older than the
    /// granularity or last_fed older than the ping interval. Remote: offline after FEDERATION_TIMEOUT of silence.
    /// <c>status_msg</c> always survives.
    /// </summary>
    /// <param name="state">The committed state.</param>
    /// <param name="isMine">Whether the user is local.</param>
    /// <param name="devices">The user's devices (local users only; ignored for remote users).</param>
    /// <param name="now">Current time, ms.</param>
    /// <param name="timings">The timings.</param>
    /// <returns>The state to re-evaluate (or null) and the updated devices.</returns>
    public static PresenceTimeoutResult HandleTimeout(
        UserPresenceState state,
        bool isMine,
        ImmutableArray<DevicePresence> devices,
        long now,
        PresenceTimings timings)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(timings);
        devices = devices.IsDefault ? [] : devices;

        if (state.State == PresenceState.Offline)
        {
            return new PresenceTimeoutResult(null, devices);
        }

        var changed = false;
        if (isMine)
        {
            var deviceChanged = false;
            var kept = ImmutableArray.CreateBuilder<DevicePresence>(devices.Length);
            foreach (var original in devices)
            {
                var device = original;
                if (device.State == PresenceState.Online && now - device.LastActiveTs > timings.IdleTimeoutMs)
                {
                    device = device with { State = PresenceState.Unavailable };
                    deviceChanged = true;
                }

                if (!device.IsSyncingAt(now))
                {
                    var syncOrActive = Math.Max(device.LastSyncTs, device.LastActiveTs);
                    var timeout = device.State == PresenceState.Busy ? timings.BusyOnlineTimeoutMs : timings.SyncOnlineTimeoutMs;
                    if (now - syncOrActive > timeout)
                    {
                        deviceChanged = true;
                        continue;
                    }
                }

                kept.Add(device);
            }

            devices = kept.ToImmutable();
            if (deviceChanged)
            {
                var combined = DevicePresence.Combine(devices);
                if (combined != state.State)
                {
                    state = state with { State = combined };
                    changed = true;
                }
            }

            if (now - state.LastActiveTs > timings.LastActiveGranularityMs)
            {
                changed = true;
            }

            if (now - state.LastFederationUpdateTs > timings.FederationPingIntervalMs)
            {
                changed = true;
            }
        }
        else if (now - state.LastFederationUpdateTs > timings.FederationTimeoutMs)
        {
            state = state with { State = PresenceState.Offline };
            changed = true;
        }

        return new PresenceTimeoutResult(changed ? state : null, devices);
    }

    /// <summary>
    /// The earliest instant (ms) at which <see cref="HandleTimeout"/> followed by <see cref="HandleUpdate"/> can change
    /// anything for this user, so an actor can keep a single timer per user; <see langword="null"/> when nothing is
    /// ever due (offline users, and remote users are only due at their federation timeout).
    /// </summary>
    /// <remarks>
    /// Synapse re-checks users from a 5 s wheel timer, fed only by the timers <see cref="HandleUpdate"/> inserts, and
    /// re-checks every 5 s any user whose last_active is older than the granularity. The candidates below are the
    /// exact instants at which one of <see cref="HandleTimeout"/>'s strict (<c>&gt;</c>) conditions first holds, hence
    /// the <c>+ 1</c>: an online device idling, a non-syncing device expiring, a syncing device's lease running out,
    /// <c>currently_active</c> expiring for an online user, the federation ping for local users, and the federation
    /// timeout for remote users. Running a timeout at any other instant is harmless (the functions are idempotent), so
    /// the result may be in the past: schedule at <c>max(result, now)</c>.
    /// </remarks>
    /// <param name="state">The committed state.</param>
    /// <param name="isMine">Whether the user is local.</param>
    /// <param name="devices">The user's devices.</param>
    /// <param name="now">Current time, ms (decides which devices are syncing).</param>
    /// <param name="timings">The timings.</param>
    /// <returns>The next due instant, or <see langword="null"/>.</returns>
    public static long? ComputeNextWakeup(
        UserPresenceState state,
        bool isMine,
        ImmutableArray<DevicePresence> devices,
        long now,
        PresenceTimings timings)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(timings);

        if (state.State == PresenceState.Offline)
        {
            return null;
        }

        if (!isMine)
        {
            return state.LastFederationUpdateTs + timings.FederationTimeoutMs + 1;
        }

        var next = state.LastFederationUpdateTs + timings.FederationPingIntervalMs + 1;
        if (state.State == PresenceState.Online && state.CurrentlyActive)
        {
            next = Math.Min(next, state.LastActiveTs + timings.LastActiveGranularityMs + 1);
        }

        foreach (var device in devices.IsDefault ? [] : devices)
        {
            if (device.State == PresenceState.Online)
            {
                next = Math.Min(next, device.LastActiveTs + timings.IdleTimeoutMs + 1);
            }

            if (device.IsSyncingAt(now))
            {
                next = Math.Min(next, device.SyncingUntil!.Value + 1);
            }
            else
            {
                var timeout = device.State == PresenceState.Busy ? timings.BusyOnlineTimeoutMs : timings.SyncOnlineTimeoutMs;
                next = Math.Min(next, Math.Max(device.LastSyncTs, device.LastActiveTs) + timeout + 1);
            }
        }

        return next;
    }
}
