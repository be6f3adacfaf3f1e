using PresenceGrid.Matrix;

namespace PresenceGrid.Presence.Tests;

/// <summary>
/// Drives one user's aggregate the way an actor would: applies operations at the simulated clock and fires the single
/// per-user timer exactly at <see cref="PresenceTransition.NextWakeupAt"/>.
/// </summary>
internal sealed class PresenceSim
{
    public PresenceSim(UserPresenceAggregate aggregate, long now, PresenceTimings? timings = null, PresenceMode mode = PresenceMode.Enabled)
    {
        Aggregate = aggregate;
        Now = now;
        Timings = timings ?? new PresenceTimings();
        Mode = mode;
        NextWakeup = PresenceOperations.NextWakeup(aggregate, now, Timings, mode);
    }

    public UserPresenceAggregate Aggregate { get; private set; }

    public long Now { get; private set; }

    public PresenceTimings Timings { get; }

    public PresenceMode Mode { get; }

    public long? NextWakeup { get; private set; }

    public List<PresenceTransition> Transitions { get; } = [];

    public int TimerFirings { get; private set; }

    public UserPresenceState State => Aggregate.State;

    public static PresenceSim Local(string userId, long now, PresenceTimings? timings = null, PresenceMode mode = PresenceMode.Enabled) =>
        new(UserPresenceAggregate.Create(UserId.Parse(userId), isMine: true), now, timings, mode);

    public PresenceTransition Apply(Func<UserPresenceAggregate, long, PresenceTransition> operation)
    {
        var transition = operation(Aggregate, Now);
        Aggregate = transition.Current;
        NextWakeup = transition.NextWakeupAt;
        Transitions.Add(transition);
        return transition;
    }

    public PresenceTransition SetState(string? device, PresenceState presence, string? statusMsg = null) =>
        Apply((a, now) => PresenceOperations.SetState(a, device, presence, statusMsg, now, Timings, Mode));

    public PresenceTransition StartSyncing(string? device, PresenceState setPresence = PresenceState.Online) =>
        Apply((a, now) => PresenceOperations.StartSyncing(a, device, setPresence, now, Timings, Mode));

    public PresenceTransition KeepAlive(string? device) =>
        Apply((a, now) => PresenceOperations.KeepAlive(a, device, now, Timings, Mode));

    public PresenceTransition StopSyncing(string? device) =>
        Apply((a, now) => PresenceOperations.StopSyncing(a, device, now, Timings, Mode));

    public PresenceTransition Bump(string? device) =>
        Apply((a, now) => PresenceOperations.BumpActiveTime(a, device, now, Timings, Mode));

    public void AdvanceBy(long ms) => AdvanceTo(Now + ms);

    /// <summary>Moves the clock to <paramref name="target"/>, firing every due wake-up on the way (exactly when due).</summary>
    public void AdvanceTo(long target)
    {
        var guard = 0;
        while (NextWakeup is { } due && due <= target)
        {
            if (++guard > 100_000)
            {
                throw new InvalidOperationException("Wake-ups do not make progress.");
            }

            Now = Math.Max(Now, due);
            TimerFirings++;
            Apply((a, now) => PresenceOperations.HandleTimer(a, now, Timings, Mode));
        }

        Now = Math.Max(Now, target);
    }

    /// <summary>Advances while a gateway keeps the given devices' syncs alive every <paramref name="interval"/> ms.</summary>
    public void AdvanceWithKeepAlives(long ms, long interval, params string[] devices)
    {
        var target = Now + ms;
        while (Now + interval <= target)
        {
            AdvanceBy(interval);
            foreach (var device in devices)
            {
                KeepAlive(device);
            }
        }

        AdvanceTo(target);
    }
}
