using PresenceGrid.Runtime.Catalog;

namespace PresenceGrid.Runtime.Timers;

/// <summary>
/// A grain timer: each tick is queued to the activation like a request, so it never overlaps a
/// request (unless <see cref="GrainTimerCreationOptions.Interleave"/>), and the next tick is
/// scheduled one period after the callback finished.
/// </summary>
internal abstract class GrainTimer : IGrainTimer
{
    // One flags word instead of four bools and an int, so the heap position fits without growing the
    // object: disposal sets its bit from any thread, so every change of the word is atomic.
    private const int DisposedFlag = 1;
    private const int TickingFlag = 2;
    private const int ChangedDuringTickFlag = 4;
    private const int InterleaveFlag = 8;
    private const int KeepAliveFlag = 16;

    private TimeSpan _period;
    private int _flags;

    protected GrainTimer(ActivationData activation, GrainTimerCreationOptions options)
    {
        Activation = activation;
        _flags = (options.Interleave ? InterleaveFlag : 0) | (options.KeepAlive ? KeepAliveFlag : 0);
        _period = options.Period;
    }

    public ActivationData Activation { get; }

    // Reached through the activation rather than kept: one timer per online user makes every field count.
    private GrainTimerQueue Queue => Activation.Runtime.GrainTimers;

    /// <summary>The activation's next timer (the activation links its timers through this, under its lock).</summary>
    internal GrainTimer? NextInActivation;

    /// <summary>When the timer is due, in <see cref="TimeProvider"/> timestamps (<see cref="long.MaxValue"/>: not scheduled); owned by <see cref="GrainTimerQueue"/>.</summary>
    internal long DueAt = long.MaxValue;

    /// <summary>The timer's position in the <see cref="GrainTimerQueue"/> heap (-1: not scheduled); owned by the queue.</summary>
    internal int HeapIndex = -1;

    /// <summary>
    /// A later due time than <see cref="DueAt"/> set while scheduled (0: none): the timer keeps its
    /// place in the heap and, once it comes up, goes back in at this time instead of firing. Owned by
    /// <see cref="GrainTimerQueue"/>.
    /// </summary>
    internal long PostponedTo;

    public bool Interleave => (_flags & InterleaveFlag) != 0;

    public bool KeepAlive => (_flags & KeepAliveFlag) != 0;

    public bool IsDisposed => (Volatile.Read(ref _flags) & DisposedFlag) != 0;

    public void Start(TimeSpan dueTime) => Queue.Schedule(this, dueTime);

    public void Change(TimeSpan dueTime, TimeSpan period)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        _period = period;
        if ((Volatile.Read(ref _flags) & TickingFlag) != 0)
        {
            Interlocked.Or(ref _flags, ChangedDuringTickFlag);
        }

        Queue.Schedule(this, dueTime);
    }

    /// <summary>Runs the callback (on the activation's turn).</summary>
    public Task InvokeCallback()
    {
        Interlocked.And(ref _flags, ~ChangedDuringTickFlag);
        Interlocked.Or(ref _flags, TickingFlag);
        return InvokeCallbackCore();
    }

    /// <summary>After the callback finished (on the turn): schedule the next tick.</summary>
    public void OnTickCompleted()
    {
        int flags = Interlocked.And(ref _flags, ~TickingFlag);
        if ((flags & (DisposedFlag | ChangedDuringTickFlag)) == 0 && _period != Timeout.InfiniteTimeSpan)
        {
            Queue.Schedule(this, _period);
        }
    }

    public void Dispose()
    {
        if ((Interlocked.Or(ref _flags, DisposedFlag) & DisposedFlag) != 0)
        {
            return;
        }

        Queue.Schedule(this, Timeout.InfiniteTimeSpan);
        Activation.RemoveTimer(this);
    }

    protected abstract Task InvokeCallbackCore();

    /// <summary>Called by the queue when due: the tick is queued to the activation like a request.</summary>
    internal void OnDue()
    {
        if (!IsDisposed)
        {
            Activation.EnqueueWork(this, null);
        }
    }
}

internal sealed class GrainTimer<TState> : GrainTimer
{
    private readonly Func<TState, CancellationToken, Task> _callback;
    private readonly TState _state;

    public GrainTimer(ActivationData activation, Func<TState, CancellationToken, Task> callback, TState state, GrainTimerCreationOptions options)
        : base(activation, options)
    {
        _callback = callback;
        _state = state;
    }

    protected override Task InvokeCallbackCore() => _callback(_state, CancellationToken.None);
}
