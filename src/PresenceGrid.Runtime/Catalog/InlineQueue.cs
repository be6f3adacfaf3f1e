namespace PresenceGrid.Runtime.Catalog;

/// <summary>
/// A FIFO queue whose first item lives inline (in the owner's fields): an activation mostly holds
/// zero or one queued item, so it needs no <see cref="Queue{T}"/> until a second one arrives.
/// A mutable struct: keep it in a non-readonly field and never copy it. Not thread-safe.
/// </summary>
internal struct InlineQueue<T>
{
    // The head slot holds default(T) exactly when the queue is empty: callers never queue default(T),
    // so no flag (and no padding) is needed beside it.
    private T _head;
    private Queue<T>? _rest;

    private readonly bool HasHead => !EqualityComparer<T>.Default.Equals(_head, default!);

    public readonly int Count => (HasHead ? 1 : 0) + (_rest?.Count ?? 0);

    /// <summary>Queues an item; <c>default(T)</c> may not be queued.</summary>
    public void Enqueue(T item)
    {
        if (EqualityComparer<T>.Default.Equals(item, default!))
        {
            throw new ArgumentException("An inline queue cannot hold the default value.", nameof(item));
        }

        if (HasHead)
        {
            (_rest ??= new Queue<T>()).Enqueue(item);
        }
        else
        {
            // Empty head means empty queue: the head is always the oldest item.
            _head = item;
        }
    }

    public readonly T Peek() => HasHead ? _head : throw new InvalidOperationException("The queue is empty.");

    public bool TryDequeue(out T item)
    {
        if (!HasHead)
        {
            item = default!;
            return false;
        }

        item = _head;
        _head = _rest is { Count: > 0 } ? _rest.Dequeue() : default!;
        return true;
    }

    /// <summary>Drops the overflow queue once empty, so an idle owner holds only its inline fields.</summary>
    public void ReleaseOverflowWhenEmpty()
    {
        if (!HasHead)
        {
            _rest = null;
        }
    }

    public T Dequeue() => TryDequeue(out T item) ? item : throw new InvalidOperationException("The queue is empty.");
}
