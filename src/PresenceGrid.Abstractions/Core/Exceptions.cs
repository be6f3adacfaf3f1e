namespace PresenceGrid;

/// <summary>The base of PresenceGrid's own exceptions.</summary>
public class PresenceGridException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PresenceGridException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What happened.</param>
    public PresenceGridException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">What happened.</param>
    /// <param name="innerException">The cause.</param>
    public PresenceGridException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>A grain call got no response within the response timeout. Its outcome is unknown.</summary>
public sealed class GrainCallTimeoutException : TimeoutException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="grainId">The target grain.</param>
    /// <param name="method">The interface method, <c>Interface.Method</c>.</param>
    /// <param name="timeout">The response timeout that elapsed.</param>
    public GrainCallTimeoutException(GrainId grainId, string method, TimeSpan timeout)
        : base($"The call {method} to grain {grainId} got no response within {timeout.TotalMilliseconds:0} ms; its outcome is unknown.")
    {
        GrainId = grainId;
        Method = method;
        Timeout = timeout;
    }

    /// <summary>The target grain.</summary>
    public GrainId GrainId { get; }

    /// <summary>The interface method, <c>Interface.Method</c>.</summary>
    public string Method { get; }

    /// <summary>The response timeout that elapsed.</summary>
    public TimeSpan Timeout { get; }
}

/// <summary>The target activation's queue is full; the request was rejected and not run. Retry later.</summary>
public sealed class GrainOverloadedException : PresenceGridException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="grainId">The overloaded grain.</param>
    /// <param name="method">The rejected method.</param>
    /// <param name="queued">Requests already queued.</param>
    /// <param name="limit">The configured limit.</param>
    public GrainOverloadedException(GrainId grainId, string method, int queued, int limit)
        : base($"Grain {grainId} is overloaded: {queued} requests are queued (limit {limit}); the call {method} was rejected and did not run.")
    {
        GrainId = grainId;
        QueuedRequests = queued;
        Limit = limit;
    }

    /// <summary>The overloaded grain.</summary>
    public GrainId GrainId { get; }

    /// <summary>Requests already queued.</summary>
    public int QueuedRequests { get; }

    /// <summary>The configured limit.</summary>
    public int Limit { get; }
}

/// <summary>The silo that hosts (or was to host) the target grain is unreachable, dead or stopping.</summary>
public sealed class SiloUnavailableException : PresenceGridException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What happened, naming the silo and the call.</param>
    public SiloUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a cause.</summary>
    /// <param name="message">What happened.</param>
    /// <param name="innerException">The cause.</param>
    public SiloUnavailableException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The grain's activation failed (its state could not load or <c>OnActivateAsync</c> threw).</summary>
public sealed class GrainActivationException : PresenceGridException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="grainId">The grain.</param>
    /// <param name="innerException">The cause.</param>
    public GrainActivationException(GrainId grainId, Exception innerException)
        : base($"Activation of grain {grainId} failed: {innerException.GetType().Name}: {innerException.Message}", innerException)
    {
        GrainId = grainId;
    }

    /// <summary>The grain.</summary>
    public GrainId GrainId { get; }
}
