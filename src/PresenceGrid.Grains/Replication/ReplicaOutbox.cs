using Microsoft.Extensions.Logging;
using PresenceGrid.Hosting;
using PresenceGrid.Matrix;

namespace PresenceGrid.Replication;

/// <summary>
/// A silo's replication stream to one peer silo: an ordered queue of <see cref="ReplicaItem"/>s sent as
/// <see cref="ReplicaBatch"/> messages, <b>pipelined but ordered</b>: up to <see cref="MaxInFlight"/> messages (at most
/// <see cref="Window"/>) are in flight at once, each numbered in the stream (<see cref="ReplicaBatch.Sequence"/>), and
/// the peer's <see cref="ReplicaSequencer"/> applies them strictly in that order. While the window is full new items
/// accumulate and leave together, as the next message, when the oldest message in flight is acknowledged: under load a
/// message carries many changes, under light load a change leaves at once (no linger).
/// </summary>
/// <remarks>
/// <para>Why awaited calls with numbered messages, not one-way messages or a <c>BroadcastChannel</c>: Orleans orders
/// neither one-way messages nor concurrent calls, so a join and a later state, or two states of one user, could apply in
/// the wrong order on the peer; the sequence number restores the order there. An awaited call tells when the peer has
/// taken a message (applied it, or held it behind an earlier one): that acknowledgement moves the window, bounds what
/// the peer holds, and makes the round trip the batching window under load. With one message in flight (as before) a
/// change also waited for the previous message's round trip, which at 1,000 updates/s on three silos (1.2–1.3 changes
/// per message) lengthened the change-to-delivery tail; with a window a change leaves while earlier messages are still
/// in flight. A <c>BroadcastChannel</c> needs a stream provider, delivers to subscriber grains (a grain call per silo
/// per item unless batched by hand anyway) and gives no per-peer back-pressure or bound.</para>
/// <para>The window: a message numbered <c>n</c> leaves only while <c>n</c> is below the oldest unacknowledged number
/// plus <see cref="MaxInFlight"/>, so the peer holds at most <see cref="Window"/> − 1 messages ahead of a gap.</para>
/// <para>Bounded: a user's queued state is replaced by its newer one (latest wins; it moves to the back, behind
/// whatever was queued before it), and past <see cref="Capacity"/> queued items new ones are dropped and counted.
/// A failed message is logged and sent again, <b>unchanged and with its number</b>, after <see cref="RetryDelay"/> while
/// Orleans' membership still shows the peer active: the peer may have applied it already (the answer was lost), in which
/// case it acknowledges the copy without applying it; newer states of its users queued meanwhile follow in later
/// messages, so the peer ends with the newest. <see cref="Drop"/> (the peer left the active set) discards the queue,
/// counting the items, as is a failed message once the peer is no longer active.</para>
/// </remarks>
internal sealed partial class ReplicaOutbox
{
    /// <summary>The default bound on queued items per peer.</summary>
    public const int DefaultCapacity = 100_000;

    /// <summary>At most this many items in one message.</summary>
    public const int MaxItemsPerMessage = 4_096;

    /// <summary>The most messages a stream keeps in flight (the default), and what a receiver holds room for.</summary>
    public const int Window = 4;

    /// <summary>The wait before a failed message is sent again.</summary>
    public static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(200);

    private readonly SiloAddress _self;
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

    // The numbers of the messages sent and not yet acknowledged (at most MaxInFlight).
    private readonly List<long> _inFlight = [];
    private int _head;
    private int _count;
    private long _nextSequence = 1;
    private bool _dropped;
    private bool _overflowing;
    private TaskCompletionSource? _idle;
    private long _messagesSent;
    private long _itemsSent;
    private long _itemsDropped;

    /// <summary>Creates the stream from <paramref name="self"/> to <paramref name="peer"/>.</summary>
    /// <param name="self">This silo (the messages' sender).</param>
    /// <param name="peer">The peer silo (for logs).</param>
    /// <param name="send">Sends one message and completes when the peer has taken it (applied or held it in order).</param>
    /// <param name="peerActive">Whether Orleans' membership still shows the peer active (a failed send is retried while it does).</param>
    /// <param name="metrics">The silo's metrics.</param>
    /// <param name="time">The clock for the retry delay.</param>
    /// <param name="logger">The logger.</param>
    /// <param name="capacity">The bound on queued items.</param>
    /// <param name="maxInFlight">The most messages in flight at once, 1 to <see cref="Window"/>.</param>
    public ReplicaOutbox(
        SiloAddress self,
        SiloAddress peer,
        Func<ReplicaBatch, Task> send,
        Func<bool> peerActive,
        PresenceMetrics metrics,
        TimeProvider time,
        ILogger logger,
        int capacity = DefaultCapacity,
        int maxInFlight = Window)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxInFlight);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxInFlight, Window);
        _self = self;
        _peer = peer;
        _send = send;
        _peerActive = peerActive;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        Capacity = capacity;
        MaxInFlight = maxInFlight;
    }

    /// <summary>The bound on queued items.</summary>
    public int Capacity { get; }

    /// <summary>The most messages in flight at once.</summary>
    public int MaxInFlight { get; }

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

    /// <summary>Messages sent and not yet taken by the peer.</summary>
    public int InFlight
    {
        get
        {
            lock (_lock)
            {
                return _inFlight.Count;
            }
        }
    }

    /// <summary>Messages the peer has taken.</summary>
    public long MessagesSent => Interlocked.Read(ref _messagesSent);

    /// <summary>Items the peer has taken.</summary>
    public long ItemsSent => Interlocked.Read(ref _itemsSent);

    /// <summary>Items dropped: past the bound, or queued (or failing) when the stream was dropped.</summary>
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

    /// <summary>Queues items, in order, and sends them at once while the window has room; never blocks on the peer.</summary>
    /// <param name="items">The items.</param>
    public void Add(IReadOnlyList<ReplicaItem> items)
    {
        int dropped = 0;
        bool overflowStarted = false;
        List<ReplicaBatch>? start = null;
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

                start = TakeMessages();
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

        Send(start);
    }

    /// <summary>Completes when no message is in flight (so nothing is queued either), or the stream was dropped and its messages in flight have ended.</summary>
    /// <returns>The task.</returns>
    public Task WhenIdle()
    {
        lock (_lock)
        {
            if (_inFlight.Count == 0)
            {
                return Task.CompletedTask;
            }

            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _idle.Task;
        }
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
            Compact();
        }

        return true;
    }

    /// <summary>Rewrites the queue as its live items, dropping the superseded states' slots (under the lock).</summary>
    private void Compact()
    {
        var live = new List<ReplicaItem>(_count);
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

    /// <summary>The messages to send now: the queue's next ones while the window has room (under the lock).</summary>
    private List<ReplicaBatch>? TakeMessages()
    {
        List<ReplicaBatch>? messages = null;
        while (!_dropped && _count > 0 && _nextSequence < OldestInFlight() + MaxInFlight)
        {
            var message = new ReplicaBatch(_self, _nextSequence++, Take());
            _inFlight.Add(message.Sequence);
            (messages ??= []).Add(message);
        }

        return messages;
    }

    /// <summary>The number of the oldest message not yet acknowledged, or the next one's (under the lock).</summary>
    private long OldestInFlight()
    {
        long oldest = _nextSequence;
        foreach (long sequence in _inFlight)
        {
            oldest = Math.Min(oldest, sequence);
        }

        return oldest;
    }

    private void Send(List<ReplicaBatch>? messages)
    {
        if (messages is not null)
        {
            foreach (ReplicaBatch message in messages)
            {
                // On the thread pool: the caller may be a grain, whose scheduler must not run the sends.
                _ = Task.Run(() => SendAsync(message));
            }
        }
    }

    /// <summary>Sends one message until the peer takes it, or the peer leaves (then the message is dropped with the queue).</summary>
    private async Task SendAsync(ReplicaBatch message)
    {
        while (true)
        {
            try
            {
                await _send(message).ConfigureAwait(false);
                break;
            }
            catch (Exception exception)
            {
                LogSendFailed(_logger, _peer, message.Items.Length, exception);
                if (!_peerActive())
                {
                    Drop();
                    Ended(message, taken: false);
                    return;
                }
            }

            await Task.Delay(RetryDelay, _time).ConfigureAwait(false);
            if (IsDropped)
            {
                Ended(message, taken: false);
                return;
            }
        }

        _metrics.ReplicationSent(message.Items.Length);
        Interlocked.Add(ref _itemsSent, message.Items.Length);
        Interlocked.Increment(ref _messagesSent); // before the window moves: a reader that sees the next message sees this one's counts
        Ended(message, taken: true);
    }

    /// <summary>A message in flight ended (the peer took it, or it is dropped): the window moves, and what it lets through leaves.</summary>
    private void Ended(ReplicaBatch message, bool taken)
    {
        if (!taken)
        {
            CountDropped(message.Items.Length);
        }

        List<ReplicaBatch>? next;
        lock (_lock)
        {
            _inFlight.Remove(message.Sequence);
            _overflowing &= _count >= Capacity / 2;
            next = TakeMessages();
            if (_inFlight.Count == 0)
            {
                _idle?.TrySetResult();
                _idle = null;
            }
        }

        Send(next);
    }

    [LoggerMessage(EventId = 3205, EventName = "ReplicationQueueFull", Level = LogLevel.Warning,
        Message = "The replication queue to silo {Peer} holds {Capacity} items: newer items are dropped (that silo misses them until the users' next changes)")]
    private static partial void LogOverflow(ILogger logger, SiloAddress peer, int capacity);

    [LoggerMessage(EventId = 3206, EventName = "ReplicationQueueDropped", Level = LogLevel.Information,
        Message = "Silo {Peer} left the active set: its replication queue ({ItemCount} items) is dropped")]
    private static partial void LogDropped(ILogger logger, SiloAddress peer, int itemCount);

    [LoggerMessage(EventId = 3204, EventName = "ReplicationSendFailed", Level = LogLevel.Warning,
        Message = "A replication message of {ItemCount} items to silo {Peer} failed; it is sent again (unchanged, with its sequence number) while the silo is active, dropped when it leaves")]
    private static partial void LogSendFailed(ILogger logger, SiloAddress peer, int itemCount, Exception exception);
}
