namespace PresenceGrid.Runtime.Catalog;

/// <summary>
/// A FIFO queue whose first item lives inline (in the owner's fields): an activation mostly holds
/// zero or one queued item, so it needs no <see cref="Queue{T}"/> until a second one arrives.
/// A mutable struct: keep it in a non-readonly field and never copy it. Not thread-safe.
/// </summary>
internal struct InlineQueue<T>
{
    private T _head;
    private bool _hasHead;
    private Queue<T>? _rest;

    public readonly int Count => (_hasHead ? 1 : 0) + (_rest?.Count ?? 0);

    public void Enqueue(T item)
    {
        if (_hasHead)
        {
            (_rest ??= new Queue<T>()).Enqueue(item);
        }
        else
        {
            // Empty head means empty queue: the head is always the oldest item.
            _head = item;
            _hasHead = true;
        }
    }

    public readonly T Peek() => _hasHead ? _head : throw new InvalidOperationException("The queue is empty.");

    public bool TryDequeue(out T item)
    {
        if (!_hasHead)
        {
            item = default!;
            return false;
        }

        item = _head;
        if (_rest is { Count: > 0 })
        {
            _head = _rest.Dequeue();
        }
        else
        {
            _head = default!;
            _hasHead = false;
        }

        return true;
    }

    /// <summary>Drops the overflow queue once empty, so an idle owner holds only its inline fields.</summary>
    public void ReleaseOverflowWhenEmpty()
    {
        if (!_hasHead)
        {
            _rest = null;
        }
    }

    public T Dequeue() => TryDequeue(out T item) ? item : throw new InvalidOperationException("The queue is empty.");
}
