namespace PresenceGrid;

/// <summary>
/// The base class of grains, as in Orleans: one activation per grain id, one request at a time
/// (unless the class or method opts into interleaving), activated on first call and collected
/// when idle. Continuations of <c>await</c> in grain code run on the activation's turn; never use
/// <c>ConfigureAwait(false)</c> in grain code.
/// </summary>
public abstract class Grain
{
    /// <summary>Creates the grain; only the runtime constructs grains.</summary>
    /// <exception cref="InvalidOperationException">When constructed outside the runtime.</exception>
    protected Grain()
    {
        GrainContext = GrainConstructionScope.Current
            ?? throw new InvalidOperationException(
                $"Grains are created by the PresenceGrid runtime, not with 'new' ({GetType().FullName}). Use IGrainFactory.GetGrain.");
    }

    /// <summary>The runtime context of this activation.</summary>
    public IGrainContext GrainContext { get; }

    /// <summary>The grain's identity.</summary>
    public GrainId GrainId => GrainContext.GrainId;

    /// <summary>The factory for references to other grains.</summary>
    protected IGrainFactory GrainFactory => GrainContext.GrainFactory;

    /// <summary>The grain's string key.</summary>
    /// <returns>The key.</returns>
    public string GetPrimaryKeyString() => GrainContext.GrainId.Key;

    /// <summary>Runs after persistent state has loaded and before the first request.</summary>
    /// <param name="cancellationToken">Cancelled when activation takes too long.</param>
    /// <returns>A task that completes when the grain is ready.</returns>
    public virtual Task OnActivateAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Runs when the activation is deactivated gracefully (not when its silo is killed).</summary>
    /// <param name="reason">Why.</param>
    /// <param name="cancellationToken">Cancelled when deactivation takes too long.</param>
    /// <returns>A task that completes when the grain has finished.</returns>
    public virtual Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Deactivates this activation after the current request.</summary>
    protected void DeactivateOnIdle() => GrainContext.DeactivateOnIdle();

    /// <summary>Keeps the activation from idle collection for at least <paramref name="timeSpan"/>.</summary>
    /// <param name="timeSpan">How long.</param>
    protected void DelayDeactivation(TimeSpan timeSpan) => GrainContext.DelayDeactivation(timeSpan);

    /// <summary>Registers a timer whose ticks run on this activation's turn and never overlap a request.</summary>
    /// <param name="callback">The callback.</param>
    /// <param name="dueTime">Time until the first tick.</param>
    /// <param name="period">Time between the end of one tick and the next; <see cref="Timeout.InfiniteTimeSpan"/> for once.</param>
    /// <returns>The timer; dispose it to stop it. It is disposed with the activation.</returns>
    protected IGrainTimer RegisterGrainTimer(Func<CancellationToken, Task> callback, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return GrainContext.RegisterGrainTimer(
            static (cb, ct) => cb(ct),
            callback,
            new GrainTimerCreationOptions { DueTime = dueTime, Period = period });
    }

    /// <summary>Registers a timer with state and options.</summary>
    /// <typeparam name="TState">The callback's state.</typeparam>
    /// <param name="callback">The callback.</param>
    /// <param name="state">The state.</param>
    /// <param name="options">Due time, period, interleaving and keep-alive.</param>
    /// <returns>The timer.</returns>
    protected IGrainTimer RegisterGrainTimer<TState>(Func<TState, CancellationToken, Task> callback, TState state, GrainTimerCreationOptions options) =>
        GrainContext.RegisterGrainTimer(callback, state, options);
}
