using PresenceGrid.Invocation;
using PresenceGrid.Runtime.Catalog;
using PresenceGrid.Runtime.Diagnostics;

namespace PresenceGrid.Runtime.Messaging;

/// <summary>
/// Routes grain calls: registers those that wait for a response with the timeout list, then hands
/// the request to the target activation. A reference remembers its last activation, so repeated
/// calls skip the catalog lookup. No directory or database round trip happens per call.
/// </summary>
internal sealed class GrainCallRouter : IGrainCallSink
{
    private readonly SiloRuntime _runtime;

    public GrainCallRouter(SiloRuntime runtime) => _runtime = runtime;

    public void Send(GrainReference target, GrainRequest request)
    {
        if (!request.Method.IsOneWay)
        {
            _runtime.InFlight.Add(request);
        }

        if (target.RoutingCache is ActivationData cached && cached.State != ActivationState.Invalid)
        {
            cached.ReceiveRequest(request);
            return;
        }

        ActivationData? activation = Resolve(request);
        if (activation is null)
        {
            return;
        }

        if (activation.Descriptor.IsStatelessWorker)
        {
            target.RoutingCache = null;
        }
        else
        {
            target.RoutingCache = activation;
        }

        activation.ReceiveRequest(request);
    }

    /// <summary>Routes a request again after its activation went away.</summary>
    public void Reroute(GrainRequest request)
    {
        if (request.IsCompleted)
        {
            return;
        }

        Resolve(request)?.ReceiveRequest(request);
    }

    private ActivationData? Resolve(GrainRequest request)
    {
        try
        {
            return _runtime.Catalog.GetOrCreate(request.TargetId);
        }
        catch (Exception exception) when (exception is InvalidOperationException or SiloUnavailableException)
        {
            RuntimeLog.RequestRejected(_runtime.Logger, request.Method.DisplayName, request.TargetId, exception.Message);
            _runtime.Fail(request, exception);
            return null;
        }
    }
}
