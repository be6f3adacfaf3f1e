using System.Globalization;
using PresenceGrid.Matrix;

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
}

/// <summary>
/// One recipient's inbox on its silo: the states delivered to it since it began to sync, each with
/// an inbox-local position; the latest state of a sender wins when it is read (and when the inbox
/// compacts). Syncs read the positions after their token; waiting syncs and watches are woken.
/// </summary>
internal sealed class Inbox
{
    private static long s_epochCounter = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private readonly object _lock = new();
    private Entry[] _entries = new Entry[4];
    private int _count;
    private long _position;
    private long _fullPresenceMarker = -1;
    private TaskCompletionSource? _waiter;

    public Inbox()
    {
        Epoch = Interlocked.Increment(ref s_epochCounter).ToString("x", CultureInfo.InvariantCulture);
    }

    /// <summary>Tokens from another epoch (another incarnation of the inbox) get a full snapshot.</summary>
    public string Epoch { get; }

    /// <summary>The position of the latest delivery (0 before any).</summary>
    public long Position
    {
        get
        {
            lock (_lock)
            {
                return _position;
            }
        }
    }

    /// <summary>Entries held (for memory accounting).</summary>
    public int Count => _count;

    /// <summary>Delivers a state; wakes waiting readers.</summary>
    public void Deliver(int sender, UserPresenceState state, DeliveryKind kind)
    {
        TaskCompletionSource? waiter;
        lock (_lock)
        {
            if (_count == _entries.Length)
            {
                Compact();
            }

            _entries[_count++] = new Entry(sender, kind, ++_position, state);
            waiter = _waiter;
            _waiter = null;
        }

        waiter?.TrySetResult();
    }

    /// <summary>
    /// <c>send_local_online_presence_to</c>: the next sync from any token up to now gets a full
    /// snapshot, once (the position moves past the marker).
    /// </summary>
    public void MarkFullPresence()
    {
        TaskCompletionSource? waiter;
        lock (_lock)
        {
            _fullPresenceMarker = _position;
            _position++;
            waiter = _waiter;
            _waiter = null;
        }

        waiter?.TrySetResult();
    }

    /// <summary>True when a sync from <paramref name="since"/> must get a full snapshot instead.</summary>
    public bool NeedsFullSnapshot(long since)
    {
        lock (_lock)
        {
            return since <= _fullPresenceMarker || since > _position;
        }
    }

    /// <summary>The latest state per sender delivered after <paramref name="since"/>, with the union of their kinds.</summary>
    public List<(UserPresenceState State, DeliveryKind Kind)> ReadSince(long since, out long position)
    {
        var bySender = new Dictionary<int, int>();
        var result = new List<(UserPresenceState State, DeliveryKind Kind)>();
        lock (_lock)
        {
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
                    result[at] = (entry.State, result[at].Kind | entry.Kind);
                }
                else
                {
                    bySender[entry.Sender] = result.Count;
                    result.Add((entry.State, entry.Kind));
                }
            }
        }

        return result;
    }

    /// <summary>Completes when a delivery moves the position past <paramref name="since"/>, or the time is up.</summary>
    public async Task<bool> WaitAsync(long since, TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        Task changed;
        lock (_lock)
        {
            if (_position > since)
            {
                return true;
            }

            _waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            changed = _waiter.Task;
        }

        try
        {
            await changed.WaitAsync(timeout, timeProvider, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>Keeps only the latest entry per sender (kinds merged); grows when that is not enough.</summary>
    private void Compact()
    {
        var latest = new Dictionary<int, int>(_count);
        for (int i = 0; i < _count; i++)
        {
            latest[_entries[i].Sender] = i;
        }

        if (latest.Count > _entries.Length / 2)
        {
            Array.Resize(ref _entries, _entries.Length * 2);
            return;
        }

        var kinds = new Dictionary<int, DeliveryKind>(latest.Count);
        for (int i = 0; i < _count; i++)
        {
            kinds[_entries[i].Sender] = kinds.GetValueOrDefault(_entries[i].Sender) | _entries[i].Kind;
        }

        int kept = 0;
        for (int i = 0; i < _count; i++)
        {
            if (latest[_entries[i].Sender] == i)
            {
                Entry entry = _entries[i];
                _entries[kept++] = entry with { Kind = kinds[entry.Sender] };
            }
        }

        Array.Clear(_entries, kept, _count - kept);
        _count = kept;
    }

    private readonly record struct Entry(int Sender, DeliveryKind Kind, long Position, UserPresenceState State);
}
