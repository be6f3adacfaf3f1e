namespace PresenceGrid.Runtime.Timers;

/// <summary>
/// The silo's grain timers in one indexed min-heap of due times behind one <see cref="ITimer"/> of
/// the silo's <see cref="TimeProvider"/>, armed for the earliest: a grain timer costs one reference
/// in the heap's array instead of a timer of its own (a user grain is alive for as long as its user
/// is online, so the per-timer bytes are per online user). Each timer knows its heap position, so
/// changing a timer moves it in place: the heap holds exactly the scheduled timers. A timer moved
/// later is not moved at all (a user's timers move later on every update): it keeps its place,
/// and when it comes up it goes back in at its later time instead of firing.
/// </summary>
internal sealed class GrainTimerQueue : IDisposable
{
    private const long NotDue = long.MaxValue;
    private const int MinCapacity = 16;

    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly double _timestampsPerTick;
    private readonly ITimer _timer;
    private GrainTimer[] _heap = new GrainTimer[MinCapacity];
    private int _count;
    private long _armedFor = NotDue;
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
    public int Count => Volatile.Read(ref _count);

    /// <summary>Slots of the heap's array (a snapshot, for tests: it shrinks when mostly empty).</summary>
    public int Capacity => Volatile.Read(ref _heap).Length;

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

            int index = timer.HeapIndex;
            if (dueAt == NotDue)
            {
                if (index >= 0)
                {
                    RemoveAt(index);
                }

                return;
            }

            if (index >= 0 && dueAt >= timer.DueAt)
            {
                // Later (or the same): the timer comes up at its earlier time and is put back then.
                timer.PostponedTo = dueAt;
                return;
            }

            timer.DueAt = dueAt;
            timer.PostponedTo = 0;
            if (index < 0)
            {
                if (_count == _heap.Length)
                {
                    Array.Resize(ref _heap, _heap.Length * 2);
                }

                Place(timer, _count);
                _count++;
                SiftUp(_count - 1);
            }
            else
            {
                Reposition(index);
            }

            // A removal leaves the timer armed early: it fires, finds nothing due and re-arms.
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
            for (int i = 0; i < _count; i++)
            {
                _heap[i].HeapIndex = -1;
                _heap[i].DueAt = NotDue;
                _heap[i].PostponedTo = 0;
            }

            _heap = [];
            _count = 0;
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
            while (_count > 0 && _heap[0].DueAt <= now)
            {
                GrainTimer timer = _heap[0];
                if (timer.PostponedTo > now)
                {
                    timer.DueAt = timer.PostponedTo;
                    timer.PostponedTo = 0;
                    SiftDown(0);
                    continue;
                }

                RemoveAt(0);
                (due ??= []).Add(timer);
            }

            if (_count > 0)
            {
                Arm(_heap[0].DueAt, now);
            }
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

    private void Arm(long dueAt, long now)
    {
        _armedFor = dueAt;
        TimeSpan delay = dueAt <= now ? TimeSpan.Zero : _time.GetElapsedTime(now, dueAt);

        // Whole milliseconds, rounded up: a system timer fires on millisecond ticks, and firing early would only re-arm.
        _timer.Change(TimeSpan.FromMilliseconds(Math.Ceiling(delay.TotalMilliseconds)), Timeout.InfiniteTimeSpan);
    }

    /// <summary>Takes the timer at <paramref name="index"/> out of the heap (under the lock).</summary>
    private void RemoveAt(int index)
    {
        GrainTimer removed = _heap[index];
        removed.HeapIndex = -1;
        removed.DueAt = NotDue;
        removed.PostponedTo = 0;
        _count--;
        if (index < _count)
        {
            Place(_heap[_count], index);
            _heap[_count] = null!;
            Reposition(index);
        }
        else
        {
            _heap[_count] = null!;
        }

        // A silo whose users went offline gives the array back (it halves at a quarter full).
        if (_heap.Length > MinCapacity && _count < _heap.Length / 4)
        {
            Array.Resize(ref _heap, Math.Max(MinCapacity, _heap.Length / 2));
        }
    }

    /// <summary>Moves the timer at <paramref name="index"/>, whose due time changed either way, to where it belongs.</summary>
    private void Reposition(int index)
    {
        GrainTimer timer = _heap[index];
        SiftUp(index);
        SiftDown(timer.HeapIndex);
    }

    private void SiftUp(int index)
    {
        GrainTimer timer = _heap[index];
        while (index > 0)
        {
            int parent = (index - 1) / 2;
            GrainTimer above = _heap[parent];
            if (above.DueAt <= timer.DueAt)
            {
                break;
            }

            Place(above, index);
            index = parent;
        }

        Place(timer, index);
    }

    private void SiftDown(int index)
    {
        GrainTimer timer = _heap[index];
        while (true)
        {
            int child = (2 * index) + 1;
            if (child >= _count)
            {
                break;
            }

            if (child + 1 < _count && _heap[child + 1].DueAt < _heap[child].DueAt)
            {
                child++;
            }

            GrainTimer below = _heap[child];
            if (timer.DueAt <= below.DueAt)
            {
                break;
            }

            Place(below, index);
            index = child;
        }

        Place(timer, index);
    }

    private void Place(GrainTimer timer, int index)
    {
        _heap[index] = timer;
        timer.HeapIndex = index;
    }
}
