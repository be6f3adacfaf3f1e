using PresenceGrid.Runtime.Catalog;

namespace PresenceGrid.Runtime.Timers;

/// <summary>
/// A grain timer: each tick is queued to the activation like a request, so it never overlaps a
/// request (unless <see cref="GrainTimerCreationOptions.Interleave"/>), and the next tick is
/// scheduled one period after the callback finished.
/// </summary>
internal abstract class GrainTimer : IGrainTimer
{
    private TimeSpan _period;
    private int _disposed;
    private bool _changedDuringTick;
    private bool _ticking;

    protected GrainTimer(ActivationData activation, GrainTimerCreationOptions options)
    {
        Activation = activation;
        Interleave = options.Interleave;
        KeepAlive = options.KeepAlive;
        _period = options.Period;
    }

    public ActivationData Activation { get; }

    // Reached through the activation rather than kept: one timer per online user makes every field count.
    private GrainTimerQueue Queue => Activation.Runtime.GrainTimers;

    /// <summary>The activation's next timer (the activation links its timers through this, under its lock).</summary>
    internal GrainTimer? NextInActivation;

    /// <summary>When the timer is due, in <see cref="TimeProvider"/> timestamps (<see cref="long.MaxValue"/>: not scheduled); owned by <see cref="GrainTimerQueue"/>.</summary>
    internal long DueAt = long.MaxValue;

    public bool Interleave { get; }

    public bool KeepAlive { get; }

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    public void Start(TimeSpan dueTime) => Queue.Schedule(this, dueTime);

    public void Change(TimeSpan dueTime, TimeSpan period)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        _period = period;
        if (_ticking)
        {
            _changedDuringTick = true;
        }

        Queue.Schedule(this, dueTime);
    }

    /// <summary>Runs the callback (on the activation's turn).</summary>
    public Task InvokeCallback()
    {
        _ticking = true;
        _changedDuringTick = false;
        return InvokeCallbackCore();
    }

    /// <summary>After the callback finished (on the turn): schedule the next tick.</summary>
    public void OnTickCompleted()
    {
        _ticking = false;
        if (!IsDisposed && !_changedDuringTick && _period != Timeout.InfiniteTimeSpan)
        {
            Queue.Schedule(this, _period);
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
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
