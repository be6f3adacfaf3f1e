namespace PresenceGrid.Runtime.Timers;

/// <summary>
/// The silo's grain timers in one min-heap of due times behind one <see cref="ITimer"/> of the
/// silo's <see cref="TimeProvider"/>, armed for the earliest: a grain timer costs a heap slot
/// instead of a timer of its own (a user grain is alive for as long as its user is online, so the
/// per-timer bytes are per online user). Changing a timer pushes a new slot and leaves the old
/// one to be skipped when it surfaces; the heap is rebuilt when skipped slots outnumber live ones.
/// </summary>
internal sealed class GrainTimerQueue : IDisposable
{
    private const long NotDue = long.MaxValue;

    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly double _timestampsPerTick;
    private readonly ITimer _timer;
    private PriorityQueue<GrainTimer, long> _heap = new();
    private long _armedFor = NotDue;
    private int _live;
    private int _slots;
    private bool _disposed;

    public GrainTimerQueue(TimeProvider time)
    {
        _time = time;
        _timestampsPerTick = time.TimestampFrequency / (double)TimeSpan.TicksPerSecond;
        using (ExecutionContext.SuppressFlow())
        {
            _timer = time.CreateTimer(static s => ((GrainTimerQueue)s!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Timers waiting to fire (a snapshot).</summary>
    public int Count => Volatile.Read(ref _live);

    /// <summary>Heap slots, live and stale (a snapshot, for tests: stale ones are pruned).</summary>
    public int Slots => Volatile.Read(ref _slots);

    /// <summary>Makes <paramref name="timer"/> due after <paramref name="dueTime"/>, or never (infinite); replaces its previous due time.</summary>
    public void Schedule(GrainTimer timer, TimeSpan dueTime)
    {
        long now = _time.GetTimestamp();
        long dueAt = dueTime == Timeout.InfiniteTimeSpan ? NotDue : now + (long)(Math.Max(0, dueTime.Ticks) * _timestampsPerTick);
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            if (timer.DueAt != NotDue)
            {
                _live--;
            }

            timer.DueAt = dueAt;
            if (dueAt == NotDue)
            {
                return;
            }

            _live++;
            if (_heap.Count > (2 * _live) + 1024)
            {
                Rebuild();
            }

            _heap.Enqueue(timer, dueAt);
            _slots = _heap.Count;
            if (dueAt < _armedFor)
            {
                Arm(dueAt, now);
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _heap.Clear();
            _live = 0;
            _slots = 0;
        }

        _timer.Dispose();
    }

    private void OnTimer()
    {
        List<GrainTimer>? due = null;
        lock (_lock)
        {
            _armedFor = NotDue;
            long now = _time.GetTimestamp();
            while (_heap.TryPeek(out GrainTimer? timer, out long dueAt) && dueAt <= now)
            {
                _heap.Dequeue();
                if (timer.DueAt == dueAt)
                {
                    timer.DueAt = NotDue;
                    _live--;
                    (due ??= []).Add(timer);
                }
            }

            ArmForHead(now);
            _slots = _heap.Count;
        }

        // Outside the lock: a tick queues work to its activation, which may schedule timers.
        if (due is not null)
        {
            foreach (GrainTimer timer in due)
            {
                timer.OnDue();
            }
        }
    }

    /// <summary>Arms the timer for the earliest live slot, dropping skipped ones from the top (under the lock).</summary>
    private void ArmForHead(long now)
    {
        while (_heap.TryPeek(out GrainTimer? timer, out long dueAt))
        {
            if (timer.DueAt == dueAt)
            {
                Arm(dueAt, now);
                return;
            }

            _heap.Dequeue();
        }
    }

    private void Arm(long dueAt, long now)
    {
        _armedFor = dueAt;
        TimeSpan delay = dueAt <= now ? TimeSpan.Zero : _time.GetElapsedTime(now, dueAt);

        // Whole milliseconds, rounded up: a system timer fires on millisecond ticks, and firing early would only re-arm.
        _timer.Change(TimeSpan.FromMilliseconds(Math.Ceiling(delay.TotalMilliseconds)), Timeout.InfiniteTimeSpan);
    }

    /// <summary>Keeps only the live slots (under the lock).</summary>
    private void Rebuild()
    {
        var heap = new PriorityQueue<GrainTimer, long>(_live + 1024);
        foreach ((GrainTimer timer, long dueAt) in _heap.UnorderedItems)
        {
            if (timer.DueAt == dueAt)
            {
                heap.Enqueue(timer, dueAt);
            }
        }

        _heap = heap;
    }
}
