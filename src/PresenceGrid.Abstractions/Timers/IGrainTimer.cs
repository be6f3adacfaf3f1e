namespace PresenceGrid;

/// <summary>A grain timer. Disposing it stops it; it is disposed with its activation.</summary>
public interface IGrainTimer : IDisposable
{
    /// <summary>Changes the due time and period.</summary>
    /// <param name="dueTime">Time until the next tick.</param>
    /// <param name="period">Time between ticks; <see cref="Timeout.InfiniteTimeSpan"/> for none.</param>
    void Change(TimeSpan dueTime, TimeSpan period);
}

/// <summary>Options of a grain timer.</summary>
public sealed record GrainTimerCreationOptions
{
    /// <summary>Time until the first tick.</summary>
    public TimeSpan DueTime { get; init; }

    /// <summary>Time from the end of one tick to the next; <see cref="Timeout.InfiniteTimeSpan"/> to tick once.</summary>
    public TimeSpan Period { get; init; } = Timeout.InfiniteTimeSpan;

    /// <summary>When true the tick may interleave with requests (it still never runs in parallel with grain code).</summary>
    public bool Interleave { get; init; }

    /// <summary>When true a tick counts as activity and keeps the activation from idle collection.</summary>
    public bool KeepAlive { get; init; }
}
