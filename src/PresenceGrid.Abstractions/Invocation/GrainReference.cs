using System.ComponentModel;

namespace PresenceGrid.Invocation;

/// <summary>Routes requests of grain references. Implemented by the runtime (silo or client).</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IGrainCallSink
{
    /// <summary>
    /// Sends <paramref name="request"/> to the grain of <paramref name="target"/>. Never throws for
    /// delivery failures: they complete the request's task.
    /// </summary>
    /// <param name="target">The reference called.</param>
    /// <param name="request">The request.</param>
    void Send(GrainReference target, GrainRequest request);
}

/// <summary>
/// The base of generated grain proxies: a typed, location-transparent reference to a grain.
/// Equal references name the same grain.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public abstract class GrainReference : IAddressable, IEquatable<GrainReference>
{
    /// <summary>Creates the reference.</summary>
    /// <param name="grainId">The grain.</param>
    /// <param name="sink">Where its requests go.</param>
    protected GrainReference(GrainId grainId, IGrainCallSink sink)
    {
        GrainId = grainId;
        Sink = sink;
    }

    /// <summary>The grain.</summary>
    public GrainId GrainId { get; }

    /// <summary>Where requests go.</summary>
    public IGrainCallSink Sink { get; }

    /// <summary>Runtime-owned cache of the resolved target (for example a local activation).</summary>
    public object? RoutingCache { get; set; }

    /// <summary>Sends a request.</summary>
    /// <param name="request">The request.</param>
    protected void Send(GrainRequest request)
    {
        request.Target = this;
        Sink.Send(this, request);
    }

    /// <inheritdoc />
    public bool Equals(GrainReference? other) => other is not null && GrainId.Equals(other.GrainId);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is GrainReference other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => GrainId.GetHashCode();

    /// <inheritdoc />
    public override string ToString() => GrainId.ToString();
}
