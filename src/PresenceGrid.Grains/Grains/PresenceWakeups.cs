using Microsoft.Extensions.Logging;
using PresenceGrid.Fanout;

namespace PresenceGrid.Grains;

/// <summary>
/// The silo-wide timer of the user grains: one <see cref="TimeProvider"/> timer for the earliest due user, a heap of
/// (user, due time) with at most one live entry per user, and a call to the user's grain when its time comes. A user
/// grain therefore needs no Orleans timer of its own and may deactivate while it waits (an idle online user costs a
/// heap entry, not an activation); the call wakes it up.
/// </summary>
internal sealed partial class PresenceWakeups : IDisposable
{
    /// <summary>No wake-up.</summary>
    public const long Never = long.MaxValue;

    private readonly UserTable _users;
    private readonly IGrainFactory _grains;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly object _lock = new();
    private readonly PriorityQueue<int, long> _due = new();
    private ITimer? _timer;
    private long _armedAt = Never;
    private int _inFlight;
    private TaskCompletionSource? _idle;

    public PresenceWakeups(UserTable users, IGrainFactory grains, TimeProvider time, ILogger<PresenceWakeups> logger)
    {
        _users = users;
        _grains = grains;
        _time = time;
        _logger = logger;
    }

    /// <summary>Wake-up calls made so far.</summary>
    public long Woken { get; private set; }

    /// <summary>Users with an entry in the heap (live or superseded).</summary>
    public int Queued
    {
        get
        {
            lock (_lock)
            {
                return _due.Count;
            }
        }
    }

    /// <summary>Sets the user's next wake-up, replacing the previous one (<see cref="Never"/>: none).</summary>
    /// <param name="user">The user's index in the silo's user table.</param>
    /// <param name="at">When, in ms since the epoch.</param>
    public void Schedule(int user, long at)
    {
        UserTable.Entry entry = _users[user];
        lock (_lock)
        {
            ScheduleLocked(entry, user, at);
        }
    }

    /// <summary>
    /// Sets a wake-up for a user this silo holds none for (a user taken over from a dead silo: its grain is not active
    /// or parked here with a timer pending); false, and nothing changed, when it holds one.
    /// </summary>
    /// <param name="user">The user's index in the silo's user table.</param>
    /// <param name="at">When, in ms since the epoch.</param>
    /// <returns>Whether the wake-up was set.</returns>
    public bool ScheduleIfNone(int user, long at)
    {
        UserTable.Entry entry = _users[user];
        lock (_lock)
        {
            if (entry.WakeAt != Never)
            {
                return false;
            }

            ScheduleLocked(entry, user, at);
            return true;
        }
    }

    /// <summary>Completes when no wake-up call that fell due is still running (for tests: after the clock moved).</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>A task.</returns>
    public Task WhenIdleAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (_inFlight == 0)
            {
                return Task.CompletedTask;
            }

            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _idle.Task.WaitAsync(cancellationToken);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _timer?.Dispose();
            _timer = null;
            _armedAt = long.MinValue; // nothing is armed again
        }
    }

    private void ScheduleLocked(UserTable.Entry entry, int user, long at)
    {
        entry.WakeAt = at;
        if (at < entry.QueuedAt)
        {
            // A later entry may stay in the heap: when it comes up it no longer matches QueuedAt and is dropped.
            entry.QueuedAt = at;
            _due.Enqueue(user, at);
            if (at < _armedAt)
            {
                Arm(at);
            }
        }
    }

    private void Arm(long at)
    {
        _armedAt = at;
        TimeSpan due = TimeSpan.FromMilliseconds(Math.Max(0, at - Now()));
        _timer ??= _time.CreateTimer(static self => ((PresenceWakeups)self!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _timer.Change(due, Timeout.InfiniteTimeSpan);
    }

    private void OnTimer()
    {
        List<int>? wake = null;
        lock (_lock)
        {
            if (_armedAt == long.MinValue)
            {
                return;
            }

            long now = Now();
            _armedAt = Never;
            while (_due.TryPeek(out int user, out long at) && at <= now)
            {
                _due.Dequeue();
                UserTable.Entry entry = _users[user];
                if (at != entry.QueuedAt)
                {
                    continue; // superseded by an earlier entry
                }

                entry.QueuedAt = Never;
                if (entry.WakeAt <= now)
                {
                    entry.WakeAt = Never;
                    (wake ??= []).Add(user);
                }
                else if (entry.WakeAt != Never)
                {
                    // Moved later since this entry was queued: queue it again for then.
                    entry.QueuedAt = entry.WakeAt;
                    _due.Enqueue(user, entry.WakeAt);
                }
            }

            if (_due.TryPeek(out _, out long next))
            {
                Arm(next);
            }

            if (wake is not null)
            {
                _inFlight += wake.Count;
                Woken += wake.Count;
            }
        }

        if (wake is not null)
        {
            foreach (int user in wake)
            {
                _ = WakeAsync(user);
            }
        }
    }

    private async Task WakeAsync(int user)
    {
        string key = _users[user].UserId.ToString();
        try
        {
            await _grains.GetGrain<IUserPresenceGrain>(key).Wake().ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            // The grain reschedules itself when it next activates; until then its timer is lost.
            LogWakeFailed(_logger, exception);
        }
        finally
        {
            TaskCompletionSource? idle = null;
            lock (_lock)
            {
                if (--_inFlight == 0)
                {
                    idle = _idle;
                    _idle = null;
                }
            }

            idle?.TrySetResult();
        }
    }

    private long Now() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    [LoggerMessage(EventId = 3400, EventName = "PresenceWakeFailed", Level = LogLevel.Warning,
        Message = "A user grain's presence timer could not be delivered; it is rescheduled when the grain next activates")]
    private static partial void LogWakeFailed(ILogger logger, Exception exception);
}
