namespace PresenceGrid.Fanout;

/// <summary>
/// The fan-out's queue of published states: many writers, one reader that takes batches. Unlike an
/// unbounded channel, it gives a burst's buffer back once the reader has caught up, so a silo does
/// not keep megabytes from its busiest second for the rest of its life.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
internal sealed class PublishQueue<T>
{
    private const int InitialCapacity = 1024;

    // A drained buffer up to this size is kept: ordinary batches come and go without reallocating.
    private const int MaxRetainedCapacity = 4 * InitialCapacity;

    private readonly Lock _lock = new();
    private T[] _items = new T[InitialCapacity];
    private int _head;
    private int _count;
    private bool _completed;
    private TaskCompletionSource<bool>? _waiter;

    /// <summary>Items queued and not yet taken.</summary>
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

    /// <summary>Queues an item; never blocks.</summary>
    /// <param name="item">The item.</param>
    /// <returns><see langword="false"/> once the queue is completed.</returns>
    public bool TryWrite(T item)
    {
        TaskCompletionSource<bool>? waiter;
        lock (_lock)
        {
            if (_completed)
            {
                return false;
            }

            if (_count == _items.Length)
            {
                Resize(_items.Length * 2);
            }

            _items[(_head + _count) % _items.Length] = item;
            _count++;
            waiter = _waiter;
            _waiter = null;
        }

        waiter?.TrySetResult(true);
        return true;
    }

    /// <summary>Completes when an item is queued (<see langword="true"/>) or the queue is completed and empty (<see langword="false"/>).</summary>
    /// <returns>Whether there is something to read.</returns>
    public ValueTask<bool> WaitToReadAsync()
    {
        lock (_lock)
        {
            if (_count > 0)
            {
                return ValueTask.FromResult(true);
            }

            if (_completed)
            {
                return ValueTask.FromResult(false);
            }

            // One reader: it is the only one waiting. Its continuation runs on the thread pool, not inline in a writer.
            _waiter ??= new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            return new ValueTask<bool>(_waiter.Task);
        }
    }

    /// <summary>Moves up to <paramref name="max"/> items, oldest first, into <paramref name="batch"/>.</summary>
    /// <param name="batch">Where the items go.</param>
    /// <param name="max">The most to take.</param>
    /// <returns>How many were taken.</returns>
    public int TakeBatch(List<T> batch, int max)
    {
        lock (_lock)
        {
            int take = Math.Min(max, _count);
            for (int i = 0; i < take; i++)
            {
                batch.Add(_items[_head]);
                _items[_head] = default!;
                _head = (_head + 1) % _items.Length;
            }

            _count -= take;
            if (_count == 0)
            {
                _head = 0;
                if (_items.Length > MaxRetainedCapacity)
                {
                    // Caught up after a burst: give the big buffer back.
                    _items = new T[InitialCapacity];
                }
            }

            return take;
        }
    }

    /// <summary>Accepts no more items; the reader still gets what is queued.</summary>
    public void Complete()
    {
        TaskCompletionSource<bool>? waiter;
        lock (_lock)
        {
            _completed = true;
            waiter = _waiter;
            _waiter = null;
        }

        waiter?.TrySetResult(false);
    }

    private void Resize(int capacity)
    {
        var items = new T[capacity];
        for (int i = 0; i < _count; i++)
        {
            items[i] = _items[(_head + i) % _items.Length];
        }

        _items = items;
        _head = 0;
    }
}
