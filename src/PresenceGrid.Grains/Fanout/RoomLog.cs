namespace PresenceGrid.Fanout;

/// <summary>
/// The recent changes of a broadcast room (one with at least
/// <see cref="Hosting.PresenceOptions.BroadcastRoomThreshold"/> members), each at its silo-wide
/// fan-out position, so members' syncs read what changed since their token without looking at every
/// member (Discord's and Orleans' hot-publisher pattern). A ring of the latest entries, started when
/// the room first grew big: a reader whose token is older than the ring reaches scans the members.
/// </summary>
internal sealed class RoomLog
{
    private readonly Lock _lock = new();
    private readonly Entry[] _ring;
    private long _count;
    private long _droppedUpTo;

    /// <summary>A log that holds the changes from <paramref name="firstPosition"/> on.</summary>
    public RoomLog(int capacity, long firstPosition)
    {
        _ring = new Entry[capacity];
        _droppedUpTo = firstPosition - 1;
    }

    /// <summary>Appends a change (from the fan-out loop).</summary>
    public void Append(int sender, long position)
    {
        lock (_lock)
        {
            long slot = _count % _ring.Length;
            if (_count >= _ring.Length)
            {
                _droppedUpTo = _ring[slot].Position;
            }

            _ring[slot] = new Entry(sender, position);
            _count++;
        }
    }

    /// <summary>
    /// Adds the senders of entries after <paramref name="since"/> and up to <paramref name="upTo"/> to
    /// <paramref name="senders"/>; false (and nothing added) when the ring no longer reaches back to
    /// <paramref name="since"/>.
    /// </summary>
    public bool ReadSince(long since, long upTo, List<int> senders)
    {
        lock (_lock)
        {
            if (since < _droppedUpTo)
            {
                return false;
            }

            long first = Math.Max(0, _count - _ring.Length);
            for (long i = first; i < _count; i++)
            {
                Entry entry = _ring[i % _ring.Length];
                if (entry.Position > since && entry.Position <= upTo)
                {
                    senders.Add(entry.Sender);
                }
            }

            return true;
        }
    }

    private readonly record struct Entry(int Sender, long Position);
}
