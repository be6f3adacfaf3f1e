using Microsoft.Extensions.Logging;
using PresenceGrid.Hosting;
using PresenceGrid.Matrix;

namespace PresenceGrid.Replication;

/// <summary>
/// A silo's replication stream to one peer silo: an ordered queue of <see cref="ReplicaItem"/>s sent as
/// <see cref="ReplicaBatch"/> messages, <b>at most one in flight</b>. While a message is in flight new items
/// accumulate and leave together, as the next message, when it completes: under load a message carries many changes,
/// under light load a change leaves at once (no linger).
/// </summary>
/// <remarks>
/// <para>Why an awaited call with one in flight, not one-way messages or a <c>BroadcastChannel</c>: Orleans does not
/// order one-way messages, so a join and a later state, or two states of one user, could apply in the wrong order
/// on the peer, and a one-way send per batch cannot tell when the peer has taken a batch, so it cannot batch by
/// back-pressure. Awaiting each message orders the stream (the next one leaves after the peer has applied this one) and
/// makes its round trip the batching window. A <c>BroadcastChannel</c> needs a stream provider, delivers to
/// subscriber grains (a grain call per silo per item unless batched by hand anyway) and gives no per-peer
/// back-pressure or bound.</para>
/// <para>Bounded: a user's queued state is replaced by its newer one (latest wins; it moves to the back, behind
/// whatever was queued before it), and past <see cref="Capacity"/> queued items new ones are dropped and counted.
/// A failed send is logged and retried after <see cref="RetryDelay"/> while Orleans' membership still shows the peer
/// active; <see cref="Drop"/> (the peer left the active set) discards the queue, counting the items.</para>
/// </remarks>
internal sealed partial class ReplicaOutbox
{
    /// <summary>The default bound on queued items per peer.</summary>
    public const int DefaultCapacity = 100_000;

    /// <summary>At most this many items in one message.</summary>
    public const int MaxItemsPerMessage = 4_096;

    /// <summary>The wait before a failed message is sent again.</summary>
    public static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(200);

    private readonly SiloAddress _peer;
    private readonly Func<ReplicaBatch, Task> _send;
    private readonly Func<bool> _peerActive;
    private readonly PresenceMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();

    // Queued items from _head on; null marks a state superseded by the same user's newer one.
    private readonly List<ReplicaItem?> _pending = [];
    private readonly Dictionary<UserId, int> _queuedState = [];
    private int _head;
    private int _count;
    private bool _sending;
    private bool _dropped;
    private bool _overflowing;
    private TaskCompletionSource? _idle;
    private long _messagesSent;
    private long _itemsSent;
    private long _itemsDropped;

    /// <summary>Creates the stream to <paramref name="peer"/>.</summary>
    /// <param name="peer">The peer silo (for logs).</param>
    /// <param name="send">Sends one message and completes when the peer has applied it.</param>
    /// <param name="peerActive">Whether Orleans' membership still shows the peer active (a failed send is retried while it does).</param>
    /// <param name="metrics">The silo's metrics.</param>
    /// <param name="time">The clock for the retry delay.</param>
    /// <param name="logger">The logger.</param>
    /// <param name="capacity">The bound on queued items.</param>
    public ReplicaOutbox(
        SiloAddress peer,
        Func<ReplicaBatch, Task> send,
        Func<bool> peerActive,
        PresenceMetrics metrics,
        TimeProvider time,
        ILogger logger,
        int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _peer = peer;
        _send = send;
        _peerActive = peerActive;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        Capacity = capacity;
    }

    /// <summary>The bound on queued items.</summary>
    public int Capacity { get; }

    /// <summary>Items queued, not yet sent.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    /// <summary>Messages the peer has applied.</summary>
    public long MessagesSent => Interlocked.Read(ref _messagesSent);

    /// <summary>Items the peer has applied.</summary>
    public long ItemsSent => Interlocked.Read(ref _itemsSent);

    /// <summary>Items dropped: past the bound, or queued when the stream was dropped.</summary>
    public long ItemsDropped => Interlocked.Read(ref _itemsDropped);

    /// <summary>Whether the stream was dropped (the peer left).</summary>
    public bool IsDropped
    {
        get
        {
            lock (_lock)
            {
                return _dropped;
            }
        }
    }

    /// <summary>Queues items, in order, and starts a send unless one is in flight; never blocks on the peer.</summary>
    /// <param name="items">The items.</param>
    public void Add(IReadOnlyList<ReplicaItem> items)
    {
        int dropped = 0;
        bool start = false;
        bool overflowStarted = false;
        lock (_lock)
        {
            if (_dropped)
            {
                dropped = items.Count; // the peer left: counted, never queued
            }
            else
            {
                foreach (ReplicaItem item in items)
                {
                    if (!Append(item))
                    {
                        dropped++;
                    }
                }

                if (dropped > 0 && !_overflowing)
                {
                    _overflowing = overflowStarted = true;
                }

                if (!_sending && _count > 0)
                {
                    _sending = start = true;
                }
            }
        }

        if (dropped > 0)
        {
            CountDropped(dropped);
            if (overflowStarted)
            {
                LogOverflow(_logger, _peer, Capacity);
            }
        }

        if (start)
        {
            // On the thread pool: the caller may be a grain, whose scheduler must not run this loop.
            _ = Task.Run(SendLoopAsync);
        }
    }

    /// <summary>Completes when nothing is queued or in flight (the send loop has stopped), or the stream is dropped.</summary>
    /// <returns>The task.</returns>
    public Task WhenIdle()
    {
        lock (_lock)
        {
            if (!_sending)
            {
                return Task.CompletedTask;
            }

            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _idle.Task;
        }
    }

    /// <summary>The send loop stops (under the lock).</summary>
    private void StopSending()
    {
        _sending = false;
        _idle?.TrySetResult();
        _idle = null;
    }

    /// <summary>Discards the queue (the peer left the active set); what is in flight completes or fails on its own.</summary>
    public void Drop()
    {
        int dropped;
        lock (_lock)
        {
            if (_dropped)
            {
                return;
            }

            _dropped = true;
            dropped = _count;
            _pending.Clear();
            _queuedState.Clear();
            _head = 0;
            _count = 0;
        }

        CountDropped(dropped);
        LogDropped(_logger, _peer, dropped);
    }

    private void CountDropped(int items)
    {
        if (items > 0)
        {
            Interlocked.Add(ref _itemsDropped, items);
            _metrics.ReplicationDropped(items);
        }
    }

    /// <summary>Queues one item (under the lock); false when it is dropped for the bound.</summary>
    private bool Append(ReplicaItem item)
    {
        if (item.Kind == ReplicaItemKind.State && _queuedState.TryGetValue(item.User, out int queued))
        {
            _pending[queued] = null;
            _count--;
        }
        else if (_count >= Capacity)
        {
            return false;
        }

        if (item.Kind == ReplicaItemKind.State)
        {
            _queuedState[item.User] = _pending.Count;
        }

        _pending.Add(item);
        _count++;
        if (_pending.Count - _head > (2 * _count) + 1024)
        {
            Compact([]);
        }

        return true;
    }

    /// <summary>Rewrites the queue as <paramref name="first"/> then the live queued items (under the lock).</summary>
    private void Compact(ReplicaItem[] first)
    {
        var live = new List<ReplicaItem>(first.Length + _count);
        foreach (ReplicaItem item in first)
        {
            // A state sent again yields to a newer state of the same user queued meanwhile.
            if (item.Kind != ReplicaItemKind.State || !_queuedState.ContainsKey(item.User))
            {
                live.Add(item);
            }
        }

        for (int i = _head; i < _pending.Count; i++)
        {
            if (_pending[i] is { } item)
            {
                live.Add(item);
            }
        }

        _pending.Clear();
        _queuedState.Clear();
        _head = 0;
        foreach (ReplicaItem item in live)
        {
            if (item.Kind == ReplicaItemKind.State)
            {
                _queuedState[item.User] = _pending.Count;
            }

            _pending.Add(item);
        }

        _count = live.Count;
    }

    /// <summary>Takes the next message's items from the front (under the lock).</summary>
    private ReplicaItem[] Take()
    {
        var items = new ReplicaItem[Math.Min(_count, MaxItemsPerMessage)];
        int taken = 0;
        while (taken < items.Length)
        {
            if (_pending[_head++] is { } item)
            {
                items[taken++] = item;
                if (item.Kind == ReplicaItemKind.State)
                {
                    _queuedState.Remove(item.User);
                }
            }
        }

        _count -= taken;
        if (_count == 0)
        {
            _pending.Clear();
            _head = 0;
        }

        return items;
    }

    private async Task SendLoopAsync()
    {
        while (true)
        {
            ReplicaItem[] items;
            lock (_lock)
            {
                if (_dropped || _count == 0)
                {
                    StopSending();
                    return;
                }

                items = Take();
            }

            try
            {
                await _send(new ReplicaBatch(items)).ConfigureAwait(false);
                _metrics.ReplicationSent(items.Length);
                Interlocked.Add(ref _itemsSent, items.Length);
                Interlocked.Increment(ref _messagesSent); // last: a reader that sees the message sees its counts
                lock (_lock)
                {
                    _overflowing &= _count >= Capacity / 2;
                }
            }
            catch (Exception exception)
            {
                LogSendFailed(_logger, _peer, items.Length, exception);
                if (!_peerActive())
                {
                    CountDropped(items.Length);
                    Drop();
                    lock (_lock)
                    {
                        StopSending();
                    }

                    return;
                }

                lock (_lock)
                {
                    if (!_dropped)
                    {
                        Compact(items);
                    }
                }

                await Task.Delay(RetryDelay, _time).ConfigureAwait(false);
            }
        }
    }

    [LoggerMessage(EventId = 3205, EventName = "ReplicationQueueFull", Level = LogLevel.Warning,
        Message = "The replication queue to silo {Peer} holds {Capacity} items: newer items are dropped (that silo misses them until the users' next changes)")]
    private static partial void LogOverflow(ILogger logger, SiloAddress peer, int capacity);

    [LoggerMessage(EventId = 3206, EventName = "ReplicationQueueDropped", Level = LogLevel.Information,
        Message = "Silo {Peer} left the active set: its replication queue ({ItemCount} items) is dropped")]
    private static partial void LogDropped(ILogger logger, SiloAddress peer, int itemCount);

    [LoggerMessage(EventId = 3204, EventName = "ReplicationSendFailed", Level = LogLevel.Warning,
        Message = "A replication message of {ItemCount} items to silo {Peer} failed; it is sent again while the silo is active, dropped when it leaves")]
    private static partial void LogSendFailed(ILogger logger, SiloAddress peer, int itemCount, Exception exception);
}
