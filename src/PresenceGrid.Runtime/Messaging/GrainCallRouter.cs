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

        if (_runtime.Cluster is { } cluster && TrySendRemote(cluster, request, forwarding: false))
        {
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

    /// <summary>Routes a request again after its activation went away (or lost an activation race).</summary>
    public void Reroute(GrainRequest request)
    {
        if (request.IsCompleted)
        {
            return;
        }

        if (_runtime.Cluster is { } cluster && TrySendRemote(cluster, request, forwarding: true))
        {
            return;
        }

        Resolve(request)?.ReceiveRequest(request);
    }

    /// <summary>Runs a request that another silo sent here (its caller waits on that silo, not in this silo's in-flight list).</summary>
    public void DeliverFromPeer(GrainRequest request)
    {
        if (_runtime.Cluster is { } cluster && TrySendRemote(cluster, request, forwarding: true))
        {
            return;
        }

        Resolve(request)?.ReceiveRequest(request);
    }

    /// <summary>
    /// In a cluster: sends the request to the silo that hosts (or by placement should host) the grain,
    /// unless it is this one. Local activations and stateless workers always run here. A silo
    /// whose lease may have lapsed refuses the call.
    /// </summary>
    private bool TrySendRemote(Membership.ClusterServices cluster, GrainRequest request, bool forwarding)
    {
        if (cluster.Agent.IsFenced)
        {
            _runtime.Fail(request, new SiloUnavailableException($"Silo {_runtime.LocalSilo.SiloAddress} cannot renew its lease and admits no grain requests ({request})."));
            return true;
        }

        GrainId grainId = request.TargetId;
        if (_runtime.Catalog.TryGet(grainId, out _)
            || (GrainTypeManifest.TryGetGrainClass(grainId.Type, out GrainClassDescriptor descriptor) && descriptor.IsStatelessWorker))
        {
            return false;
        }

        if (cluster.RemoteOwner(grainId, usePlacement: !forwarding) is not { } owner)
        {
            return false;
        }

        if (forwarding)
        {
            if (request.ForwardCount >= cluster.Options.MaxForwardCount)
            {
                _runtime.Fail(request, new SiloUnavailableException($"{request} was forwarded {request.ForwardCount} times without reaching its activation."));
                return true;
            }

            request.ForwardCount++;
            _runtime.Instruments.CallsForwarded.Add(1);
        }
        else
        {
            _runtime.Instruments.CallsRemote.Add(1);
        }

        cluster.Messages.SendRequest(owner, request);
        return true;
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
