namespace PresenceGrid.Fanout;

/// <summary>Why a state reached a recipient (bit flags; several may apply).</summary>
[Flags]
internal enum DeliveryKind : byte
{
    None = 0,

    /// <summary>The recipient's own presence.</summary>
    Self = 1,

    /// <summary>The sender shares a non-excluded joined room with the recipient.</summary>
    Room = 2,

    /// <summary>A routing module's <c>get_users_for_states</c> named the recipient for this state.</summary>
    Module = 4,

    /// <summary>The recipient's interest is ALL.</summary>
    AllUsers = 8,

    /// <summary>
    /// A membership extra of Synapse's incremental sync: the sender newly joined, was invited to or knocked on one of
    /// the recipient's rooms, or the recipient newly joined one of the sender's. Shown as is, also to ALL users.
    /// </summary>
    Joined = 16,
}

/// <summary>What an inbox can answer a sync token's position with.</summary>
internal enum InboxToken
{
    /// <summary>Every delivery after the position is still held: an incremental read.</summary>
    Current,

    /// <summary><c>send_local_online_presence_to</c> marked the inbox at or after the position: one full snapshot.</summary>
    FullPresence,

    /// <summary>A valid but old position: the deliveries right after it were dropped (only the last two tokens read from are kept).</summary>
    Trimmed,

    /// <summary>A position this inbox never reached (not one of its tokens).</summary>
    Unknown,
}

/// <summary>
/// One recipient's inbox on its silo: which senders' states were delivered to it, each with an
/// inbox-local position and why (<see cref="DeliveryKind"/>). The states themselves stay in the
/// silo's latest-state table, so the latest state of a sender wins by construction and the inbox
/// holds no object references (16 bytes an entry; the GC does not trace it). When full it keeps
/// only the latest entry per sender. Syncs read the positions after their token; waiting syncs and
/// watches are woken. It locks itself (no separate lock object: one cache line less per delivery).
/// </summary>
internal sealed class Inbox
{
    private const int MaxRetainedScratchEntries = 4096;

    // Random start: inboxes of different silos (processes) never share an epoch, so a token from one silo gets a snapshot on another.
    private static long s_epochCounter = Random.Shared.NextInt64(1L << 60);

    [ThreadStatic]
    private static Dictionary<int, int>? t_scratch;

    private Entry[] _entries = [];
    private int _count;
    private long _position;
    private long _fullPresenceMarker = -1;
    private long _floor;
    private long _lastSince = long.MaxValue;
    private HashSet<TaskCompletionSource>? _watchers;

    public Inbox()
    {
        Epoch = Interlocked.Increment(ref s_epochCounter);
    }

    /// <summary>Tokens from another epoch (another incarnation of the inbox) get a full snapshot.</summary>
    public long Epoch { get; }

    /// <summary>The position of the latest delivery (0 before any).</summary>
    public long Position
    {
        get
        {
            lock (this)
            {
                return _position;
            }
        }
    }

    /// <summary>Entries held (for memory accounting).</summary>
    public int Count => _count;

    /// <summary>Bytes held by the entries.</summary>
    public int CapacityBytes => _entries.Length * 16;

    /// <summary>Records that <paramref name="sender"/>'s latest state reached this recipient; wakes waiting readers.</summary>
    public void Deliver(int sender, DeliveryKind kind)
    {
        HashSet<TaskCompletionSource>? watchers;
        lock (this)
        {
            if (_count == _entries.Length)
            {
                MakeRoom();
            }

            _entries[_count++] = new Entry(sender, kind, ++_position);
            watchers = SyncWakeUps.TakeAll(ref _watchers);
        }

        SyncWakeUps.Complete(watchers);
    }

    /// <summary>Records several deliveries at once (one lock, one wake-up).</summary>
    public void DeliverMany(ReadOnlySpan<int> senders, ReadOnlySpan<DeliveryKind> kinds)
    {
        HashSet<TaskCompletionSource>? watchers;
        lock (this)
        {
            for (int i = 0; i < senders.Length; i++)
            {
                if (_count == _entries.Length)
                {
                    MakeRoom();
                }

                _entries[_count++] = new Entry(senders[i], kinds[i], ++_position);
            }

            watchers = SyncWakeUps.TakeAll(ref _watchers);
        }

        SyncWakeUps.Complete(watchers);
    }

    /// <summary>
    /// <c>send_local_online_presence_to</c>: the next sync from any token up to now gets a full
    /// snapshot, once (the position moves past the marker).
    /// </summary>
    public void MarkFullPresence()
    {
        HashSet<TaskCompletionSource>? watchers;
        lock (this)
        {
            _fullPresenceMarker = _position;
            _position++;
            watchers = SyncWakeUps.TakeAll(ref _watchers);
        }

        SyncWakeUps.Complete(watchers);
    }

    /// <summary>What a sync from <paramref name="since"/> can be answered with.</summary>
    public InboxToken Check(long since)
    {
        lock (this)
        {
            if (since <= _fullPresenceMarker)
            {
                return InboxToken.FullPresence;
            }

            if (since > _position)
            {
                return InboxToken.Unknown;
            }

            return since < _floor ? InboxToken.Trimmed : InboxToken.Current;
        }
    }

    /// <summary>The senders delivered after <paramref name="since"/>, once each, with the union of their kinds.</summary>
    public List<(int Sender, DeliveryKind Kind)> ReadSince(long since, out long position)
    {
        var bySender = new Dictionary<int, int>();
        var result = new List<(int Sender, DeliveryKind Kind)>();
        lock (this)
        {
            // The last two tokens read from are kept (two devices alternating); older ones get a snapshot.
            Trim(Math.Min(since, _lastSince));
            _lastSince = since;
            position = _position;
            for (int i = 0; i < _count; i++)
            {
                ref Entry entry = ref _entries[i];
                if (entry.Position <= since)
                {
                    continue;
                }

                if (bySender.TryGetValue(entry.Sender, out int at))
                {
                    result[at] = (entry.Sender, result[at].Kind | entry.Kind);
                }
                else
                {
                    bySender[entry.Sender] = result.Count;
                    result.Add((entry.Sender, entry.Kind));
                }
            }
        }

        return result;
    }

    /// <summary>
    /// Registers <paramref name="wake"/> to be completed when the position moves past
    /// <paramref name="since"/>; false (nothing registered) when it already has. A waiting sync that
    /// ends without a wake-up must <see cref="Unwatch"/>, so a quiet inbox keeps nothing of it.
    /// </summary>
    public bool Watch(TaskCompletionSource wake, long since)
    {
        lock (this)
        {
            if (_position > since)
            {
                return false;
            }

            SyncWakeUps.Add(ref _watchers, wake);
            return true;
        }
    }

    /// <summary>Takes back a registration of <see cref="Watch"/> (it may already be gone: a delivery takes them all).</summary>
    public void Unwatch(TaskCompletionSource wake)
    {
        lock (this)
        {
            _watchers?.Remove(wake);
        }
    }

    /// <summary>Syncs watching this inbox now (a snapshot, for tests and diagnostics).</summary>
    public int WatcherCount
    {
        get
        {
            lock (this)
            {
                return _watchers?.Count ?? 0;
            }
        }
    }

    /// <summary>Drops entries at or before <paramref name="floor"/> (under the lock).</summary>
    private void Trim(long floor)
    {
        if (floor <= _floor || floor == long.MaxValue)
        {
            return;
        }

        _floor = floor;
        int kept = 0;
        for (int i = 0; i < _count; i++)
        {
            if (_entries[i].Position > floor)
            {
                _entries[kept++] = _entries[i];
            }
        }

        Array.Clear(_entries, kept, _count - kept);
        _count = kept;
        if (_count == 0)
        {
            // Everything was read: an idle inbox holds no array at all.
            _entries = [];
        }
        else if (_count < _entries.Length / 4 && _entries.Length > 4)
        {
            Array.Resize(ref _entries, Math.Max(4, (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)_count * 2)));
        }
    }

    /// <summary>Makes room for one more entry when full (under the lock).</summary>
    private void MakeRoom()
    {
        if (_entries.Length == 0)
        {
            _entries = new Entry[4];
        }
        else
        {
            Compact();
        }
    }

    /// <summary>Keeps only the latest entry per sender (kinds merged); grows when that frees too little.</summary>
    private void Compact()
    {
        Dictionary<int, int> latest = t_scratch ??= [];
        latest.Clear();
        for (int i = 0; i < _count; i++)
        {
            ref Entry entry = ref _entries[i];
            if (entry.Position == 0)
            {
                // A hole an earlier compaction left when it grew the array instead: not an entry of sender 0.
                continue;
            }

            if (latest.TryGetValue(entry.Sender, out int previous))
            {
                entry = entry with { Kind = entry.Kind | _entries[previous].Kind };
                _entries[previous] = default;
            }

            latest[entry.Sender] = i;
        }

        int distinct = latest.Count;
        if (distinct > MaxRetainedScratchEntries)
        {
            // The thread does not keep a table sized for the biggest inbox it ever compacted
            // (one that hears from every user would leave 12 bytes per user behind).
            t_scratch = null;
        }

        if (distinct > _entries.Length / 2)
        {
            Array.Resize(ref _entries, _entries.Length * 2);
            return;
        }

        int kept = 0;
        for (int i = 0; i < _count; i++)
        {
            if (_entries[i].Position != 0)
            {
                _entries[kept++] = _entries[i];
            }
        }

        Array.Clear(_entries, kept, _count - kept);
        _count = kept;
    }

    private readonly record struct Entry(int Sender, DeliveryKind Kind, long Position);
}
