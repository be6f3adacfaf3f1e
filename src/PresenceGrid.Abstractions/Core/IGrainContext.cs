namespace PresenceGrid;

/// <summary>
/// The runtime's view of one grain activation, handed to the <see cref="Grain"/> base class.
/// Implemented by the runtime.
/// </summary>
public interface IGrainContext
{
    /// <summary>The grain's identity.</summary>
    GrainId GrainId { get; }

    /// <summary>A unique id for this activation (incarnation) of the grain.</summary>
    Guid ActivationId { get; }

    /// <summary>The factory for references to other grains.</summary>
    IGrainFactory GrainFactory { get; }

    /// <summary>The services of the silo that hosts the activation.</summary>
    IServiceProvider ActivationServices { get; }

    /// <summary>Asks the runtime to deactivate this activation once the current request has finished.</summary>
    void DeactivateOnIdle();

    /// <summary>Keeps the activation from idle collection for at least <paramref name="timeSpan"/>.</summary>
    /// <param name="timeSpan">How long to keep it.</param>
    void DelayDeactivation(TimeSpan timeSpan);

    /// <summary>Registers a timer whose ticks run on the activation's turn.</summary>
    /// <typeparam name="TState">The callback's state.</typeparam>
    /// <param name="callback">The callback.</param>
    /// <param name="state">The state passed to the callback.</param>
    /// <param name="options">Due time, period, interleaving and keep-alive.</param>
    /// <returns>The timer; disposing it stops it.</returns>
    IGrainTimer RegisterGrainTimer<TState>(Func<TState, CancellationToken, Task> callback, TState state, GrainTimerCreationOptions options);
}

/// <summary>Why an activation is being deactivated.</summary>
public enum DeactivationReasonCode
{
    /// <summary>No reason given.</summary>
    None,

    /// <summary>The grain asked for it (<see cref="Grain.DeactivateOnIdle"/>).</summary>
    ApplicationRequested,

    /// <summary>Idle longer than the collection age.</summary>
    ActivationIdle,

    /// <summary>The silo is shutting down.</summary>
    ShuttingDown,

    /// <summary><see cref="Grain.OnActivateAsync"/> or loading state failed.</summary>
    ActivationFailed,

    /// <summary>Another activation of the same grain won the directory registration.</summary>
    DuplicateActivation,

    /// <summary>Its persistent state was written by another activation.</summary>
    InconsistentState,
}

/// <summary>Why an activation is being deactivated, with a human-readable description.</summary>
/// <param name="ReasonCode">The reason.</param>
/// <param name="Description">What happened.</param>
public readonly record struct DeactivationReason(DeactivationReasonCode ReasonCode, string Description)
{
    /// <inheritdoc />
    public override string ToString() => $"{ReasonCode}: {Description}";
}

/// <summary>
/// Gives the <see cref="Grain"/> constructor its context while the runtime constructs a grain.
/// Plumbing for the runtime.
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static class GrainConstructionScope
{
    [ThreadStatic]
    private static IGrainContext? t_current;

    /// <summary>The context of the grain under construction on this thread, if any.</summary>
    public static IGrainContext? Current => t_current;

    /// <summary>Makes <paramref name="context"/> current on this thread until the result is disposed.</summary>
    /// <param name="context">The new activation's context.</param>
    /// <returns>Restores the previous context when disposed.</returns>
    public static Scope Enter(IGrainContext context)
    {
        IGrainContext? previous = t_current;
        t_current = context;
        return new Scope(previous);
    }

    /// <summary>Restores the previous context.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly IGrainContext? _previous;

        internal Scope(IGrainContext? previous) => _previous = previous;

        /// <inheritdoc />
        public void Dispose() => t_current = _previous;
    }
}
