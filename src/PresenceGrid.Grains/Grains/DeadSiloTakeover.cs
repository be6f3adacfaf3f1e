using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PresenceGrid.Fanout;
using PresenceGrid.Hosting;
using PresenceGrid.Matrix;
using PresenceGrid.Placement;
using PresenceGrid.Presence;

namespace PresenceGrid.Grains;

/// <summary>
/// Takes over the timers of the users a silo held when Orleans declares that silo dead (killed, or stopped gracefully:
/// either way its <see cref="PresenceWakeups"/> and parked devices are gone). Each survivor schedules, in its own
/// <see cref="PresenceWakeups"/>, a wake-up for every user it now owns (rendezvous over the remaining active silos) whose
/// latest state it knows is not offline nor mirrored from the homeserver (<see cref="UserTable.Entry.Mirrored"/>: such a
/// user has no grid timers, the homeserver times it out and mirrors that) and for whom it holds no wake-up of its own; the
/// wake-up activates the grain on its owner, and activation re-evaluates the timers from the stored state as Synapse does
/// after a restart (a pseudo-device with the stored timestamps: a user whose syncing devices died with the silo goes
/// offline after the sync timeout).
/// </summary>
/// <remarks>
/// As Synapse's first timeout run after a restart, the wake-ups start <see cref="PresenceTimings.TimeoutLoopFirstRun"/>
/// after the death is seen, so that clients that reconnect through another silo in that time keep their state without a
/// flap; they are then spread at <see cref="WakeupsPerSecond"/> per survivor, so a large silo's death is not one burst of
/// activations. A grain that is already active (a client reconnected) is only called: the wake-up changes nothing.
/// </remarks>
internal sealed partial class DeadSiloTakeover(
    IClusterMembershipService membership,
    ILocalSiloDetails self,
    UserTable users,
    PresenceWakeups wakeups,
    PresenceMetrics metrics,
    IOptions<PresenceOptions> options,
    TimeProvider time,
    ILogger<DeadSiloTakeover> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>Wake-ups of taken-over users per second on each survivor.</summary>
    public const int WakeupsPerSecond = 1000;

    private static readonly ulong UserTypePrefix = RendezvousHashing.GrainTypePrefix(UserPresenceGrain.GrainTypeName);

    private readonly CancellationTokenSource _stopping = new();
    private Task _watching = Task.CompletedTask;
    private long _spreadEnd; // when the last wake-up scheduled so far falls due: a later death's wake-ups queue after it
    private long _takenOver;
    private int _deathsHandled;

    /// <summary>Users taken over so far.</summary>
    public long TakenOver => Interlocked.Read(ref _takenOver);

    /// <summary>Deaths of other silos handled so far.</summary>
    public int DeathsHandled => Volatile.Read(ref _deathsHandled);

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(DeadSiloTakeover), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    /// <summary>
    /// Schedules the wake-ups of the users this silo takes over from <paramref name="dead"/>, after those of earlier deaths
    /// (so that silos dying together still make one wake-up per millisecond). Called by one loop at a time.
    /// </summary>
    /// <param name="dead">The silo that died.</param>
    /// <param name="snapshot">The membership in which it is dead.</param>
    /// <returns>How many users were taken over.</returns>
    internal int TakeOver(SiloAddress dead, ClusterMembershipSnapshot snapshot)
    {
        SiloAddress[] active = [.. snapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress)];
        if (!active.Contains(self.SiloAddress))
        {
            return 0;
        }

        PresenceTimings timings = options.Value.Timings;
        long start = Math.Max(time.GetUtcNow().ToUnixTimeMilliseconds() + (long)timings.TimeoutLoopFirstRun.TotalMilliseconds, _spreadEnd);
        int count = 0;
        int known = users.Count;
        for (int index = 0; index < known; index++)
        {
            UserTable.Entry user = users[index];
            if (user.LatestState is not { State: not PresenceState.Offline } || user.Mirrored)
            {
                // Offline: nothing to time out. Mirrored: the homeserver times the user out and mirrors that.
                continue;
            }

            string key = user.UserId.ToString();
            bool owned = active.Length == 1 || UserOwnerPlacementDirector.Owner(RendezvousHashing.HashGrain(UserTypePrefix, key), active).Equals(self.SiloAddress);
            if (owned && wakeups.ScheduleIfNone(index, start + ((long)count * 1000 / WakeupsPerSecond)))
            {
                count++;
            }
        }

        _spreadEnd = start + ((long)count * 1000 / WakeupsPerSecond);
        Interlocked.Add(ref _takenOver, count);
        metrics.TakenOver(count);
        LogTakenOver(logger, dead, count, timings.TimeoutLoopFirstRun.TotalSeconds, (double)count / WakeupsPerSecond);
        return count;
    }

    /// <summary>Whether <paramref name="member"/> died since <paramref name="previous"/> (it may have held grains: it was not dead then).</summary>
    private static bool Died(ClusterMember member, ClusterMembershipSnapshot previous) =>
        member.Status == SiloStatus.Dead && previous.GetSiloStatus(member.SiloAddress) != SiloStatus.Dead;

    private Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.Mode == PresenceMode.Enabled)
        {
            // Only the enabled mode runs grid timers (untracked and disabled have none to take over).
            _watching = Task.Run(() => WatchAsync(_stopping.Token), CancellationToken.None);
        }

        return Task.CompletedTask;
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _watching.WaitAsync(cancellationToken).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        // The baseline: silos already dead when this silo became active were handled by the survivors of the time (or,
        // in a cluster that restarted as a whole, by activation itself).
        ClusterMembershipSnapshot previous = membership.CurrentSnapshot;
        try
        {
            await foreach (ClusterMembershipSnapshot snapshot in membership.MembershipUpdates.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                if (snapshot.Version <= previous.Version)
                {
                    continue;
                }

                foreach (ClusterMember member in snapshot.Members.Values)
                {
                    if (!member.SiloAddress.Equals(self.SiloAddress) && Died(member, previous))
                    {
                        TakeOverLogged(member.SiloAddress, snapshot);
                    }
                }

                previous = snapshot;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The silo is stopping.
        }
    }

    private void TakeOverLogged(SiloAddress dead, ClusterMembershipSnapshot snapshot)
    {
        try
        {
            TakeOver(dead, snapshot);
        }
        catch (Exception exception)
        {
            // The users not taken over are timed out when their grains next activate.
            LogTakeOverFailed(logger, exception, dead);
        }
        finally
        {
            Interlocked.Increment(ref _deathsHandled);
        }
    }

    [LoggerMessage(EventId = 3401, EventName = "PresenceTimersTakenOver", Level = LogLevel.Information,
        Message = "Silo {DeadSilo} left the cluster: this silo took over the timers of {UserCount} users it may have held; their grains are woken from {GraceSeconds} s for {SpreadSeconds} s")]
    private static partial void LogTakenOver(ILogger logger, SiloAddress deadSilo, int userCount, double graceSeconds, double spreadSeconds);

    [LoggerMessage(EventId = 3402, EventName = "PresenceTakeOverFailed", Level = LogLevel.Warning,
        Message = "Taking over the timers of the users of dead silo {DeadSilo} failed; the others are timed out when their grains next activate")]
    private static partial void LogTakeOverFailed(ILogger logger, Exception exception, SiloAddress deadSilo);
}
