using PresenceGrid.Invocation;
using PresenceGrid.Persistence;
using PresenceGrid.Runtime.Diagnostics;
using PresenceGrid.Runtime.GrainDirectory;
using PresenceGrid.Runtime.Persistence;
using PresenceGrid.Runtime.Timers;

namespace PresenceGrid.Runtime.Catalog;

/// <summary>The life of an activation.</summary>
internal enum ActivationState
{
    /// <summary>Created, activation not started.</summary>
    Creating,

    /// <summary>Registering, loading state, running OnActivateAsync; requests wait.</summary>
    Activating,

    /// <summary>Serving requests.</summary>
    Valid,

    /// <summary>Running OnDeactivateAsync; requests wait and go to the next activation.</summary>
    Deactivating,

    /// <summary>Gone; requests that still reach it are routed again.</summary>
    Invalid,
}

/// <summary>
/// One activation of a grain (Orleans' <c>ActivationData</c>). It is its own scheduler: a work
/// queue drained by one thread-pool work item at a time, so grain code never runs in parallel.
/// Requests wait in a pending queue until the turn rules (non-reentrant by default;
/// <c>[Reentrant]</c>, <c>[AlwaysInterleave]</c>, <c>[ReadOnly]</c>) admit them. Everything below
/// "on the turn" runs only from <see cref="IThreadPoolWorkItem.Execute"/>. The work queue, the
/// scheduled flag and the timer list are guarded by locking the activation itself (no lock object:
/// one activation per online user makes every field count).
/// </summary>
/// <remarks>
/// The activation is also the synchronization context installed while its grain code runs: every
/// <c>await</c> continuation of grain code is posted back to its work queue, so grain code never
/// runs in parallel with itself (one object per activation instead of two).
/// </remarks>
internal sealed class ActivationData : SynchronizationContext, IGrainContext, IGrainActivationContext, IThreadPoolWorkItem
{
    private const int MaxItemsPerTurnBatch = 128;

    private static readonly Action<Task, object?> OnInvocationCompleted = static (task, state) =>
    {
        var request = (GrainRequest)state!;
        ((ActivationData)request.RuntimeState!).EnqueueWork(request, task);
    };

    private static readonly Action<Task, object?> OnTickCompleted = static (task, state) =>
    {
        var timer = (GrainTimer)state!;
        timer.Activation.EnqueueWork(timer, task);
    };

    private readonly SiloGrainClass _class;
    private readonly long _number;
    private InlineQueue<WorkItem> _work;
    private InlineQueue<object> _pending;
    private RareFields? _rare; // what few activations need, kept out of the common layout
    private bool _isDeactivated;
    private bool _scheduled;
    private volatile ActivationState _state;
    private Grain? _grain;
    private List<IActivationStateLoader>? _states;
    private GrainTimer? _timers; // a list linked through GrainTimer.NextInActivation, under lock (this)
    private bool _registered; // in the directory; the address itself is made when needed (no object kept per activation)
    private int _running;
    private int _runningReadOnly;
    private int _pendingInterleavable;
    private bool _deactivateOnIdle;
    private long _lastActive;
    private long _keepAliveUntil;

    public ActivationData(SiloGrainClass grainClass, GrainId grainId, StatelessWorkerPool? pool)
    {
        _class = grainClass;
        GrainId = grainId;
        if (pool is not null)
        {
            _rare = new RareFields { Pool = pool };
        }
        _number = grainClass.Runtime.NextActivationNumber();
        _lastActive = grainClass.Runtime.TimeProvider.GetTimestamp();
    }

    public GrainId GrainId { get; }

    /// <summary>The next activation in the same bucket of the catalog's <see cref="ActivationTable"/>.</summary>
    internal ActivationData? NextInTable;

    /// <summary>This activation's id, unique across the cluster (made from the runtime's random half and this activation's number).</summary>
    public Guid ActivationId => Runtime.ActivationIdOf(_number);

    public IGrainFactory GrainFactory => Runtime.GrainFactory;

    public IServiceProvider ActivationServices => Runtime.Services;

    IServiceProvider IGrainActivationContext.Services => Runtime.Services;

    public ActivationState State => _state;

    public GrainClassDescriptor Descriptor => _class.Descriptor;

    /// <summary>The grain instance once activated (for tests and diagnostics).</summary>
    public Grain? GrainInstance => _grain;

    /// <summary>Completes when the activation is gone.</summary>
    public Task Deactivated
    {
        get
        {
            lock (this)
            {
                return _isDeactivated ? Task.CompletedTask : ((_rare ??= new RareFields()).Deactivated ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
        }
    }

    /// <summary>A rough load figure (read off the turn): queued work plus waiting and running requests.</summary>
    public int ApproximateLoad => _work.Count + _pending.Count + _running;

    internal SiloRuntime Runtime => _class.Runtime;

    /// <summary>The registered address (null unless the directory accepted this activation).</summary>
    internal GrainAddress? Address => _registered ? NewAddress() : null;

    /// <inheritdoc />
    public override void Post(SendOrPostCallback d, object? state) => EnqueueWork(d, state);

    /// <inheritdoc />
    public override void Send(SendOrPostCallback d, object? state) =>
        throw new NotSupportedException("Grain code may not block on its own activation (SynchronizationContext.Send).");

    /// <inheritdoc />
    public override SynchronizationContext CreateCopy() => this;

    /// <summary>Queues a request for this activation.</summary>
    public void ReceiveRequest(GrainRequest request) => EnqueueWork(request, null);

    /// <summary>Starts activation; called once by the catalog for the activation it created.</summary>
    public void StartActivation()
    {
        Runtime.Instruments.ActivationAdded();
        EnqueueWork(Command.Activate, null);
    }

    /// <summary>Asks the activation to deactivate when idle past the collection age (checked on the turn).</summary>
    public void RequestCollection() => EnqueueWork(Command.CollectIfIdle, null);

    /// <summary>Asks the activation to deactivate as soon as no request runs.</summary>
    public void RequestDeactivation(DeactivationReason reason) => EnqueueWork(new DeactivateCommand(reason), null);

    /// <summary>True when it may be collected (read off the turn, then checked again on it).</summary>
    public bool IsCollectionCandidate(long now, long ageTicks) =>
        _state == ActivationState.Valid && _running == 0 && _pending.Count == 0
        && now - Volatile.Read(ref _lastActive) >= ageTicks && now >= Volatile.Read(ref _keepAliveUntil);

    public void DeactivateOnIdle()
    {
        // Grain code runs on the turn: the flag holds back the next waiting request; the command
        // covers an activation that is already idle.
        _deactivateOnIdle = true;
        EnqueueWork(Command.DeactivateOnIdle, null);
    }

    public void DelayDeactivation(TimeSpan timeSpan)
    {
        long until = Runtime.TimeProvider.GetTimestamp() + (long)(timeSpan.TotalSeconds * Runtime.TimeProvider.TimestampFrequency);
        Volatile.Write(ref _keepAliveUntil, Math.Max(Volatile.Read(ref _keepAliveUntil), until));
    }

    public IGrainTimer RegisterGrainTimer<TState>(Func<TState, CancellationToken, Task> callback, TState state, GrainTimerCreationOptions options)
    {
        ArgumentNullException.ThrowIfNull(callback);
        ArgumentNullException.ThrowIfNull(options);
        if (_state is ActivationState.Deactivating or ActivationState.Invalid)
        {
            throw new InvalidOperationException($"Grain {GrainId} is deactivating and cannot register timers.");
        }

        var timer = new GrainTimer<TState>(this, callback, state, options);
        lock (this)
        {
            timer.NextInActivation = _timers;
            _timers = timer;
        }

        timer.Start(options.DueTime);
        return timer;
    }

    public IPersistentState<TState> GetPersistentState<TState>(string stateName, string? storageName, Func<TState> createDefault)
    {
        var state = new PersistentState<TState>(this, Runtime.GetStateBinding(GrainId, stateName, storageName, createDefault));
        (_states ??= []).Add(state);
        return state;
    }

    /// <summary>Called by a persistent state whose write lost a race: deactivate after this request.</summary>
    internal void OnInconsistentState()
    {
        RuntimeLog.InconsistentState(Runtime.Logger, GrainId);
        _deactivateOnIdle = true;
    }

    internal void RemoveTimer(GrainTimer timer)
    {
        lock (this)
        {
            ref GrainTimer? link = ref _timers;
            while (link is not null && link != timer)
            {
                link = ref link.NextInActivation;
            }

            if (link is not null)
            {
                link = timer.NextInActivation;
                timer.NextInActivation = null;
            }
        }
    }

    /// <summary>Queues work for the turn: a continuation, a request, a finished invocation, a timer tick or a command.</summary>
    internal void EnqueueWork(object item, object? argument)
    {
        bool schedule;
        lock (this)
        {
            _work.Enqueue(new WorkItem(item, argument));
            schedule = !_scheduled;
            _scheduled = true;
        }

        if (schedule)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    void IThreadPoolWorkItem.Execute()
    {
        for (int processed = 0; processed < MaxItemsPerTurnBatch; processed++)
        {
            WorkItem item;
            lock (this)
            {
                if (!_work.TryDequeue(out item))
                {
                    // Idle: a burst's overflow queue goes (an activation per online user keeps only its fields).
                    _work.ReleaseOverflowWhenEmpty();
                    _scheduled = false;
                    return;
                }
            }

            Process(item);
        }

        // Yield the thread to other activations; stay scheduled.
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    private void Process(WorkItem item)
    {
        switch (item.Item)
        {
            case SendOrPostCallback callback:
                RunContinuation(callback, item.Argument);
                break;
            case GrainRequest request when item.Argument is Task invocation:
                OnRequestFinished(request, invocation);
                break;
            case GrainRequest request:
                OnRequestArrived(request);
                break;
            case GrainTimer timer when item.Argument is Task tick:
                OnTickFinished(timer, tick);
                break;
            case GrainTimer timer:
                OnTickDue(timer);
                break;
            case Command command:
                OnCommand(command);
                break;
        }
    }

    private void RunContinuation(SendOrPostCallback callback, object? state)
    {
        SetSynchronizationContext(this);
        try
        {
            callback(state);
        }
        catch (Exception exception)
        {
            RuntimeLog.ContinuationFailed(Runtime.Logger, exception, GrainId);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(null);
        }
    }

    private void OnRequestArrived(GrainRequest request)
    {
        switch (_state)
        {
            case ActivationState.Valid when MayInvoke(request):
                Invoke(request);
                break;
            case ActivationState.Invalid when _rare?.ActivationFailure is { } activationFailure:
                // It failed to activate: requests that were already on their way share its fate,
                // the next call tries a new activation.
                Runtime.Fail(request, activationFailure);
                break;
            case ActivationState.Invalid:
                Runtime.Router.Reroute(request);
                break;
            default:
                int limit = Runtime.MessagingOptions.MaxEnqueuedRequests;
                if (limit > 0 && _pending.Count >= limit)
                {
                    Runtime.Instruments.CallsRejected.Add(1);
                    RuntimeLog.RequestRejected(Runtime.Logger, request.Method.DisplayName, GrainId, "overloaded");
                    Runtime.Fail(request, new GrainOverloadedException(GrainId, request.Method.DisplayName, _pending.Count, limit));
                    break;
                }

                AddPending(request);
                break;
        }
    }

    private void AddPending(object item)
    {
        _pending.Enqueue(item);
        if (IsInterleavable(item))
        {
            _pendingInterleavable++;
        }
    }

    private bool MayInvoke(object item)
    {
        if (_running == 0 || Descriptor.IsReentrant)
        {
            return true;
        }

        if (item is GrainRequest request)
        {
            GrainMethodOptions options = request.Method.Options;
            return (options & GrainMethodOptions.AlwaysInterleave) != 0
                || ((options & GrainMethodOptions.ReadOnly) != 0 && _running == _runningReadOnly);
        }

        return ((GrainTimer)item).Interleave;
    }

    private static bool IsInterleavable(object item) => item is GrainRequest request
        ? (request.Method.Options & (GrainMethodOptions.AlwaysInterleave | GrainMethodOptions.ReadOnly)) != 0
        : ((GrainTimer)item).Interleave;

    private void Invoke(object item)
    {
        if (item is GrainTimer timer)
        {
            InvokeTick(timer);
            return;
        }

        var request = (GrainRequest)item;
        if (request.IsCompleted)
        {
            // It timed out while it waited: the caller has its answer; do not run it.
            return;
        }

        bool readOnly = (request.Method.Options & GrainMethodOptions.ReadOnly) != 0;
        _running++;
        if (readOnly)
        {
            _runningReadOnly++;
        }

        MarkActive();
        request.RuntimeState = this;
        Task invocation = RunGrainCode(static s => s.Request.Invoke(s.Grain), (Request: request, Grain: _grain!));

        if (invocation.IsCompleted)
        {
            OnRequestFinished(request, invocation);
        }
        else
        {
            invocation.ContinueWith(OnInvocationCompleted, request, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private void OnRequestFinished(GrainRequest request, Task invocation)
    {
        _running--;
        if ((request.Method.Options & GrainMethodOptions.ReadOnly) != 0)
        {
            _runningReadOnly--;
        }

        MarkActive();
        Runtime.Complete(request, invocation);
        AfterTurn();
    }

    private void OnTickDue(GrainTimer timer)
    {
        if (_state != ActivationState.Valid || timer.IsDisposed)
        {
            return;
        }

        if (MayInvoke(timer))
        {
            InvokeTick(timer);
        }
        else
        {
            AddPending(timer);
        }
    }

    private void InvokeTick(GrainTimer timer)
    {
        if (timer.IsDisposed || _state != ActivationState.Valid)
        {
            return;
        }

        _running++;
        if (timer.KeepAlive)
        {
            MarkActive();
        }

        Task tick = RunGrainCode(static t => t.InvokeCallback(), timer);

        if (tick.IsCompleted)
        {
            OnTickFinished(timer, tick);
        }
        else
        {
            tick.ContinueWith(OnTickCompleted, timer, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private void OnTickFinished(GrainTimer timer, Task tick)
    {
        _running--;
        if (tick.IsFaulted)
        {
            RuntimeLog.TimerTickFailed(Runtime.Logger, tick.Exception!.InnerException ?? tick.Exception, GrainId);
        }

        timer.OnTickCompleted();
        AfterTurn();
    }

    /// <summary>After a request or tick finished: deactivate if asked, else admit what waits.</summary>
    private void AfterTurn()
    {
        if (_state != ActivationState.Valid)
        {
            return;
        }

        if (_deactivateOnIdle && _running == 0)
        {
            StartDeactivation(new DeactivationReason(DeactivationReasonCode.ApplicationRequested, "DeactivateOnIdle was called"));
            return;
        }

        PumpPending();
    }

    private void PumpPending()
    {
        while (_pending.Count > 0 && _state == ActivationState.Valid)
        {
            object head = _pending.Peek();
            if (MayInvoke(head))
            {
                DequeuePending();
                Invoke(head);
                continue;
            }

            if (_pendingInterleavable == 0)
            {
                return;
            }

            // The head must wait, but something behind it may interleave: one pass in order.
            int count = _pending.Count;
            for (int i = 0; i < count && _state == ActivationState.Valid; i++)
            {
                object item = DequeuePending();
                if (MayInvoke(item))
                {
                    Invoke(item);
                }
                else
                {
                    AddPending(item);
                }
            }

            return;
        }
    }

    private object DequeuePending()
    {
        object item = _pending.Dequeue();
        if (IsInterleavable(item))
        {
            _pendingInterleavable--;
        }

        return item;
    }

    private void MarkActive() => Volatile.Write(ref _lastActive, Runtime.TimeProvider.GetTimestamp());

    private void OnCommand(Command command)
    {
        switch (command.Kind)
        {
            case CommandKind.Activate when _state == ActivationState.Creating:
                _ = RunGrainCode(static self => self.ActivateAsync(), this);
                break;
            case CommandKind.DeactivateOnIdle:
                _deactivateOnIdle = true;
                if (_state == ActivationState.Valid && _running == 0)
                {
                    StartDeactivation(new DeactivationReason(DeactivationReasonCode.ApplicationRequested, "DeactivateOnIdle was called"));
                }

                break;
            case CommandKind.CollectIfIdle:
                long now = Runtime.TimeProvider.GetTimestamp();
                long ageTicks = (long)(Runtime.CollectionOptions.CollectionAge.TotalSeconds * Runtime.TimeProvider.TimestampFrequency);
                if (IsCollectionCandidate(now, ageTicks))
                {
                    StartDeactivation(new DeactivationReason(DeactivationReasonCode.ActivationIdle, $"idle longer than {Runtime.CollectionOptions.CollectionAge}"));
                }

                break;
            case CommandKind.Deactivate:
                var reason = ((DeactivateCommand)command).Reason;
                if (_state == ActivationState.Valid && _running == 0)
                {
                    StartDeactivation(reason);
                }
                else if (_state is ActivationState.Valid or ActivationState.Activating or ActivationState.Creating)
                {
                    _deactivateOnIdle = true;
                    if (_state == ActivationState.Creating)
                    {
                        // Never activated: nothing to run, just go.
                        _state = ActivationState.Deactivating;
                        _ = RunGrainCode(static s => s.Self.FinishDeactivationAsync(s.Reason), (Self: this, Reason: reason));
                    }
                }

                break;
        }
    }

    /// <summary>
    /// Runs grain code (or a runtime flow around it) with the activation's synchronization context
    /// current, so its continuations come back to this activation; an exception becomes a faulted task.
    /// </summary>
    private Task RunGrainCode<TArg>(Func<TArg, Task> code, TArg arg)
    {
        SetSynchronizationContext(this);
        try
        {
            return code(arg);
        }
        catch (Exception exception)
        {
            return Task.FromException(exception);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(null);
        }
    }

    private async Task ActivateAsync()
    {
        _state = ActivationState.Activating;
        try
        {
            if (_rare?.Pool is null)
            {
                GrainAddress address = NewAddress();
                GrainAddress registered = await Runtime.Directory.RegisterAsync(address, previousAddress: null);
                if (registered.ActivationId != ActivationId && registered.Silo == Runtime.LocalSilo.SiloAddress
                    && !Runtime.Catalog.IsLocalActivation(registered))
                {
                    // A stale entry of this silo (an activation that is gone): take it over.
                    registered = await Runtime.Directory.RegisterAsync(address, registered);
                }

                if (registered.ActivationId != ActivationId)
                {
                    RuntimeLog.DuplicateActivation(Runtime.Logger, GrainId, registered.ToString());
                    if (Runtime.Cluster is { } cluster && registered.Silo != Runtime.LocalSilo.SiloAddress)
                    {
                        // The loser forwards what queued here to the winner.
                        cluster.DirectoryCache[GrainId] = registered;
                    }

                    _state = ActivationState.Invalid;
                    Runtime.Catalog.Remove(this);
                    Runtime.Instruments.ActivationRemoved();
                    SignalDeactivated();
                    RerouteWaiting();
                    return;
                }

                _registered = true;
            }

            using (GrainConstructionScope.Enter(this))
            {
                _grain = Descriptor.Factory(this);
            }

            if (_states is not null)
            {
                foreach (IActivationStateLoader state in _states)
                {
                    await state.LoadAsync();
                }

                _states = null; // loaded once; the grain holds its states
            }

            using var timeout = new CancellationTokenSource(Runtime.CollectionOptions.ActivationTimeout, Runtime.TimeProvider);
            await _grain.OnActivateAsync(timeout.Token);
        }
        catch (Exception exception)
        {
            await FailActivationAsync(exception);
            return;
        }

        _state = ActivationState.Valid;
        MarkActive();
        if (_deactivateOnIdle && _pending.Count == 0)
        {
            StartDeactivation(new DeactivationReason(DeactivationReasonCode.ApplicationRequested, "deactivation requested during activation"));
            return;
        }

        PumpPending();
    }

    private async Task FailActivationAsync(Exception exception)
    {
        RuntimeLog.ActivationFailed(Runtime.Logger, exception, GrainId, _pending.Count);
        Runtime.Instruments.ActivationFailures.Add(1);
        _state = ActivationState.Invalid;
        DisposeTimers();
        await UnregisterAsync();
        Runtime.Catalog.Remove(this);
        Runtime.Instruments.ActivationRemoved();
        var failure = new GrainActivationException(GrainId, exception);
        lock (this)
        {
            // Under the lock: the Deactivated getter may create the rare fields concurrently.
            (_rare ??= new RareFields()).ActivationFailure = failure;
        }

        while (_pending.Count > 0)
        {
            if (DequeuePending() is GrainRequest request)
            {
                Runtime.Fail(request, failure);
            }
        }

        SignalDeactivated();
    }

    private void StartDeactivation(DeactivationReason reason)
    {
        if (_state != ActivationState.Valid)
        {
            return;
        }

        _state = ActivationState.Deactivating;
        _ = RunGrainCode(static s => s.Self.DeactivateAsync(s.Reason), (Self: this, Reason: reason));
    }

    private async Task DeactivateAsync(DeactivationReason reason)
    {
        DisposeTimers();
        if (_grain is not null)
        {
            try
            {
                using var timeout = new CancellationTokenSource(Runtime.CollectionOptions.DeactivationTimeout, Runtime.TimeProvider);
                await _grain.OnDeactivateAsync(reason, timeout.Token);
            }
            catch (Exception exception)
            {
                RuntimeLog.DeactivationFailed(Runtime.Logger, exception, GrainId, reason.ReasonCode);
            }
        }

        await FinishDeactivationAsync(reason);
    }

    private async Task FinishDeactivationAsync(DeactivationReason reason)
    {
        await UnregisterAsync();
        _state = ActivationState.Invalid;
        Runtime.Catalog.Remove(this);
        Runtime.Instruments.ActivationRemoved();
        RuntimeLog.Deactivated(Runtime.Logger, GrainId, reason.ReasonCode);
        SignalDeactivated();
        RerouteWaiting();
    }

    /// <summary>Requests that waited here go to the grain's next activation (or fail if the silo stops).</summary>
    private void RerouteWaiting()
    {
        while (_pending.Count > 0)
        {
            if (DequeuePending() is GrainRequest request)
            {
                Runtime.Router.Reroute(request);
            }
        }
    }

    private async Task UnregisterAsync()
    {
        if (!_registered)
        {
            return;
        }

        _registered = false;
        try
        {
            await Runtime.Directory.UnregisterAsync(NewAddress());
        }
        catch (Exception exception)
        {
            RuntimeLog.DirectoryUnregisterFailed(Runtime.Logger, exception, GrainId);
        }
    }

    private GrainAddress NewAddress() => new(GrainId, ActivationId, Runtime.LocalSilo.SiloAddress);

    /// <summary>Drops the activation without running its deactivation (the silo was killed): timers stop, nothing is written.</summary>
    internal void Abandon()
    {
        _state = ActivationState.Invalid;
        DisposeTimers();
        SignalDeactivated();
    }

    private void DisposeTimers()
    {
        GrainTimer? timer;
        lock (this)
        {
            timer = _timers;
            _timers = null;
        }

        while (timer is not null)
        {
            GrainTimer? next = timer.NextInActivation;
            timer.NextInActivation = null;
            timer.Dispose();
            timer = next;
        }
    }

    public override string ToString() => $"{GrainId} #{ActivationId:N} ({_state})";

    private void SignalDeactivated()
    {
        TaskCompletionSource? deactivated;
        lock (this)
        {
            _isDeactivated = true;
            deactivated = _rare?.Deactivated;
        }

        deactivated?.TrySetResult();
    }

    private readonly record struct WorkItem(object Item, object? Argument);

    /// <summary>Fields few activations use: a stateless worker's pool, waiters for the end, a failed activation's error.</summary>
    private sealed class RareFields
    {
        public StatelessWorkerPool? Pool;
        public TaskCompletionSource? Deactivated;
        public GrainActivationException? ActivationFailure;
    }

    private enum CommandKind
    {
        Activate,
        CollectIfIdle,
        DeactivateOnIdle,
        Deactivate,
    }

    private class Command
    {
        public static readonly Command Activate = new(CommandKind.Activate);
        public static readonly Command CollectIfIdle = new(CommandKind.CollectIfIdle);
        public static readonly Command DeactivateOnIdle = new(CommandKind.DeactivateOnIdle);

        protected Command(CommandKind kind) => Kind = kind;

        public CommandKind Kind { get; }
    }

    private sealed class DeactivateCommand : Command
    {
        public DeactivateCommand(DeactivationReason reason)
            : base(CommandKind.Deactivate) => Reason = reason;

        public DeactivationReason Reason { get; }
    }
}
