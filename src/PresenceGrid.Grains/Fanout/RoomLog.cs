namespace PresenceGrid.Fanout;

/// <summary>
/// The recent changes of a broadcast room (one with at least
/// <see cref="Hosting.PresenceOptions.BroadcastRoomThreshold"/> members): instead of one inbox write
/// per member, a change is appended here once, at the silo-wide fan-out position, and members'
/// syncs read it (Discord's and Orleans' hot-publisher pattern). A ring of the latest entries;
/// a reader whose token fell off the ring gets the room's members' current states instead.
/// </summary>
internal sealed class RoomLog
{
    private readonly Lock _lock = new();
    private readonly Entry[] _ring;
    private long _count;
    private long _droppedUpTo;
    private TaskCompletionSource? _waiter;

    public RoomLog(int capacity) => _ring = new Entry[capacity];

    /// <summary>Appends a change (from the fan-out loop); wakes waiting readers.</summary>
    public void Append(int sender, long position)
    {
        TaskCompletionSource? waiter;
        lock (_lock)
        {
            long slot = _count % _ring.Length;
            if (_count >= _ring.Length)
            {
                _droppedUpTo = _ring[slot].Position;
            }

            _ring[slot] = new Entry(sender, position);
            _count++;
            waiter = _waiter;
            _waiter = null;
        }

        waiter?.TrySetResult();
    }

    /// <summary>
    /// Adds the senders of entries after <paramref name="since"/> to <paramref name="senders"/> and
    /// returns the newest position read (<paramref name="since"/> when none); null when entries
    /// after <paramref name="since"/> were already dropped.
    /// </summary>
    public long? ReadSince(long since, List<int> senders)
    {
        lock (_lock)
        {
            if (since < _droppedUpTo)
            {
                return null;
            }

            long newest = since;
            long first = Math.Max(0, _count - _ring.Length);
            for (long i = first; i < _count; i++)
            {
                Entry entry = _ring[i % _ring.Length];
                if (entry.Position > since)
                {
                    senders.Add(entry.Sender);
                    newest = Math.Max(newest, entry.Position);
                }
            }

            return newest;
        }
    }

    /// <summary>A task that completes at the next append.</summary>
    public Task Changed()
    {
        lock (_lock)
        {
            _waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _waiter.Task;
        }
    }

    private readonly record struct Entry(int Sender, long Position);
}
