using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text.Json;
using PresenceGrid.Invocation;
using PresenceGrid.Runtime.Catalog;
using PresenceGrid.Runtime.GrainDirectory;
using PresenceGrid.Runtime.Membership;
using PresenceGrid.Runtime.Networking;

namespace PresenceGrid.Runtime.Messaging;

/// <summary>
/// Grain calls between silos: serializes requests for the transport, pairs responses with the
/// requests waiting for them, runs requests that arrive from peers (or forwards them to the
/// grain's activation), and carries silo-level messages on named channels.
/// </summary>
internal sealed class MessageCenter : ISiloMessageHandler
{
    private readonly SiloRuntime _runtime;
    private readonly ISiloTransport _transport;
    private readonly MembershipAgent _agent;
    private readonly JsonSerializerOptions _json;
    private readonly ConcurrentDictionary<long, PendingCall> _pending = new();
    private readonly ConcurrentDictionary<string, Action<SiloAddress, ReadOnlyMemory<byte>>> _channels = new(StringComparer.Ordinal);
    private readonly Lock _viewRefreshLock = new();
    private Task? _viewRefresh;
    private long _viewRefreshStartedMs;
    private long _nextCorrelation;
    private long _sent;
    private long _received;

    public MessageCenter(SiloRuntime runtime, ISiloTransport transport, MembershipAgent agent, JsonSerializerOptions json)
    {
        _runtime = runtime;
        _transport = transport;
        _agent = agent;
        _json = json;
        RegisterChannel(PingChannel, OnPing);
        RegisterChannel(PongChannel, OnPong);
    }

    /// <summary>Grain and system messages sent to peers.</summary>
    public long MessagesSent => Interlocked.Read(ref _sent);

    /// <summary>Grain and system messages received from peers.</summary>
    public long MessagesReceived => Interlocked.Read(ref _received);

    /// <summary>Requests waiting for a peer's response.</summary>
    public int PendingCount => _pending.Count;

    /// <summary>Sends a grain call to <paramref name="target"/>; its response (or failure) completes the request.</summary>
    public void SendRequest(SiloAddress target, GrainRequest request)
    {
        byte[] body;
        try
        {
            body = GrainJson.ToUtf8Bytes((request, _json), static (writer, s) => s.request.WriteArguments(writer, s._json));
        }
        catch (Exception exception)
        {
            _runtime.Fail(request, new InvalidOperationException($"The arguments of {request} cannot be sent to another silo: {exception.Message}", exception));
            return;
        }

        bool oneWay = request.Method.IsOneWay;
        long correlation = oneWay ? 0 : Interlocked.Increment(ref _nextCorrelation);
        int ttl = 0;
        if (request.Deadline != 0)
        {
            double ms = (request.Deadline - _runtime.TimeProvider.GetTimestamp()) * 1000.0 / _runtime.TimeProvider.TimestampFrequency;
            ttl = (int)Math.Clamp(ms, 1, int.MaxValue);
        }

        if (!oneWay)
        {
            _pending[correlation] = new PendingCall(request, target, _runtime.TimeProvider.GetTimestamp());
        }

        Interlocked.Increment(ref _sent);
        _transport.Send(target, new SiloMessage
        {
            Kind = oneWay ? SiloMessageKind.OneWay : SiloMessageKind.Request,
            CorrelationId = correlation,
            Target = request.TargetId.ToString(),
            MethodId = request.Method.MethodId,
            ForwardCount = request.ForwardCount,
            TimeToLiveMs = ttl,
            Body = body,
        });
    }

    /// <summary>Registers the handler of a system channel (called on I/O threads; must not block).</summary>
    public void RegisterChannel(string channel, Action<SiloAddress, ReadOnlyMemory<byte>> handler)
    {
        if (!_channels.TryAdd(channel, handler))
        {
            throw new InvalidOperationException($"System channel '{channel}' already has a handler.");
        }
    }

    /// <summary>Sends a silo-level message on <paramref name="channel"/> (best effort: lost if the peer dies).</summary>
    public void SendSystem(SiloAddress target, string channel, ReadOnlyMemory<byte> body)
    {
        Interlocked.Increment(ref _sent);
        _transport.Send(target, new SiloMessage { Kind = SiloMessageKind.System, Target = channel, Body = body });
    }

    /// <summary>Checks that <paramref name="peer"/> is reachable and accepts this silo (same cluster secret): a ping and its pong.</summary>
    /// <returns>The peer's activation count, from its pong.</returns>
    public async Task<long> PingAsync(SiloAddress peer, TimeSpan timeout, CancellationToken cancellationToken)
    {
        long id = Interlocked.Increment(ref _nextCorrelation);
        var pong = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pings[id] = pong;
        try
        {
            byte[] body = new byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(body, id);
            SendSystem(peer, PingChannel, body);
            return await pong.Task.WaitAsync(timeout, _runtime.TimeProvider, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new SiloUnavailableException($"Silo {peer} did not answer this silo's join check within {timeout.TotalSeconds:0} s.");
        }
        finally
        {
            _pings.TryRemove(id, out _);
        }
    }

    private const string PingChannel = "cluster.ping";
    private const string PongChannel = "cluster.pong";
    private readonly ConcurrentDictionary<long, TaskCompletionSource<long>> _pings = new();

    /// <summary>A ping (body: its id): answer with the id and this silo's activation count.</summary>
    private void OnPing(SiloAddress sender, ReadOnlyMemory<byte> body)
    {
        byte[] pong = new byte[16];
        body.Span[..8].CopyTo(pong);
        BinaryPrimitives.WriteInt64LittleEndian(pong.AsSpan(8), _runtime.Catalog.Count);
        SendSystem(sender, PongChannel, pong);
    }

    private void OnPong(SiloAddress sender, ReadOnlyMemory<byte> body)
    {
        if (_pings.TryGetValue(BinaryPrimitives.ReadInt64LittleEndian(body.Span), out TaskCompletionSource<long>? waiting))
        {
            waiting.TrySetResult(BinaryPrimitives.ReadInt64LittleEndian(body.Span[8..]));
        }
    }

    public void OnMessage(SiloAddress sender, SiloMessage message)
    {
        Interlocked.Increment(ref _received);
        try
        {
            switch (message.Kind)
            {
                case SiloMessageKind.Request:
                case SiloMessageKind.OneWay:
                    OnRequest(sender, message);
                    break;
                case SiloMessageKind.Response:
                    if (_pending.TryRemove(message.CorrelationId, out PendingCall response))
                    {
                        _runtime.InFlight.Remove(response.Request);
                        try
                        {
                            response.Request.CompleteFromResponse(message.Body.Span, _json);
                        }
                        catch (Exception exception)
                        {
                            response.Request.TryFail(new InvalidOperationException($"The response of {response.Request} could not be read: {exception.Message}", exception));
                        }
                    }

                    break;
                case SiloMessageKind.Failure:
                    if (_pending.TryRemove(message.CorrelationId, out PendingCall failed))
                    {
                        _runtime.Fail(failed.Request, RemoteExceptionCodec.Decode(message.Body.Span));
                    }

                    break;
                case SiloMessageKind.System:
                    if (message.Target is { } channel && _channels.TryGetValue(channel, out Action<SiloAddress, ReadOnlyMemory<byte>>? handler))
                    {
                        try
                        {
                            handler(sender, message.Body);
                        }
                        catch (Exception exception)
                        {
                            ClusterLog.ChannelFailed(_runtime.Logger, exception, channel, sender.ToString());
                        }
                    }

                    break;
            }
        }
        catch (Exception exception)
        {
            ClusterLog.BadMessage(_runtime.Logger, exception, sender.ToString(), message.Kind.ToString());
        }
    }

    public void OnSendFailed(SiloAddress target, SiloMessage message, Exception exception)
    {
        ClusterLog.SendFailed(_runtime.Logger, target.ToString(), exception.Message);
        if (message.Kind == SiloMessageKind.System && message.Target == PingChannel
            && _pings.TryGetValue(BinaryPrimitives.ReadInt64LittleEndian(message.Body.Span), out TaskCompletionSource<long>? ping))
        {
            ping.TrySetException(new SiloUnavailableException(
                $"This silo cannot reach silo {target} to join the cluster ({exception.Message}). Do both silos use the same cluster id and secret?", exception));
        }

        if (message.Kind == SiloMessageKind.Request && _pending.TryRemove(message.CorrelationId, out PendingCall call))
        {
            _ = RerouteOrFailAsync(call.Request, target, exception as SiloUnavailableException
                ?? new SiloUnavailableException($"Silo {target} is unavailable; {call.Request} was not sent: {exception.Message}", exception));
        }
    }

    /// <summary>
    /// A request that never left this silo can safely go elsewhere. When its target is not an active
    /// silo once the membership table has been read again (it died and this silo had not heard yet,
    /// or had just declared it dead itself), the request is routed anew, bounded by the forward
    /// count; otherwise it fails with the transport's reason.
    /// </summary>
    private async Task RerouteOrFailAsync(GrainRequest request, SiloAddress target, SiloUnavailableException failure)
    {
        try
        {
            if (_agent.View.Membership.StatusOf(target) == SiloStatus.Active)
            {
                await RefreshViewAsync();
            }

            if (_agent.View.Membership.StatusOf(target) != SiloStatus.Active && !request.IsCompleted)
            {
                ClusterLog.Rerouted(_runtime.Logger, request.ToString(), target.ToString());
                _runtime.Router.Reroute(request);
                return;
            }
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // The table could not be read: the request fails with the transport's reason below.
        }

        _runtime.Fail(request, failure);
    }

    /// <summary>
    /// One read of the membership table at a time, shared by every request that waits for it, and at
    /// most one per <see cref="ViewRefreshSpacingMs"/>: a peer whose queue overflows fails many sends,
    /// and they must not become as many reads of the table. The spacing is a load bound, not logical
    /// time, so it runs on the real clock.
    /// </summary>
    private Task RefreshViewAsync()
    {
        lock (_viewRefreshLock)
        {
            long now = Environment.TickCount64;
            if (_viewRefresh is null || (_viewRefresh.IsCompleted && now - _viewRefreshStartedMs >= ViewRefreshSpacingMs))
            {
                _viewRefreshStartedMs = now;
                _viewRefresh = RefreshWithTimeoutAsync();
            }

            return _viewRefresh;
        }

        async Task RefreshWithTimeoutAsync()
        {
            using var timeout = new CancellationTokenSource(ViewRefreshTimeout);
            await _agent.RefreshAsync(timeout.Token);
        }
    }

    /// <summary>How long a request that could not be sent waits for the membership table before it fails.</summary>
    private static readonly TimeSpan ViewRefreshTimeout = TimeSpan.FromSeconds(5);

    private const long ViewRefreshSpacingMs = 100;

    public void OnConnectionClosed(SiloAddress peer)
    {
        int failed = FailPendingTo(peer, $"The connection to silo {peer} closed before it answered; the outcome of the call is unknown.");
        ClusterLog.ConnectionLost(_runtime.Logger, peer.ToString(), failed);
    }

    public bool IsDead(SiloAddress silo) => _agent.View.IsDead(silo);

    /// <summary>Fails every call waiting for <paramref name="silo"/> with <see cref="SiloUnavailableException"/>.</summary>
    public int FailPendingTo(SiloAddress silo, string reason)
    {
        int failed = 0;
        foreach ((long correlation, PendingCall call) in _pending)
        {
            if (call.Target == silo && _pending.TryRemove(correlation, out _))
            {
                _runtime.Fail(call.Request, new SiloUnavailableException($"{reason} ({call.Request})"));
                failed++;
            }
        }

        return failed;
    }

    /// <summary>Drops entries of calls that completed otherwise (timed out): their responses will never be read.</summary>
    public void SweepCompleted()
    {
        // Calls this silo forwards for a peer are in no in-flight list here: past twice the response
        // timeout their caller has given up, so they are failed rather than kept forever.
        long now = _runtime.TimeProvider.GetTimestamp();
        long limit = (long)((_runtime.MessagingOptions.ResponseTimeout * 2).TotalSeconds * _runtime.TimeProvider.TimestampFrequency);
        foreach ((long correlation, PendingCall call) in _pending)
        {
            if (call.Request.IsCompleted)
            {
                _pending.TryRemove(correlation, out _);
            }
            else if (now - call.SentAt > limit && _pending.TryRemove(correlation, out _))
            {
                _runtime.Fail(call.Request, new TimeoutException($"Silo {call.Target} did not answer {call.Request} within {(_runtime.MessagingOptions.ResponseTimeout * 2).TotalSeconds:0} s."));
            }
        }
    }

    private void OnRequest(SiloAddress sender, SiloMessage message)
    {
        if (_agent.IsFenced)
        {
            Reply(sender, message, new SiloUnavailableException($"Silo {_agent.Local} cannot renew its lease and admits no grain requests."));
            return;
        }

        if (!GrainTypeManifest.TryGetMethod(message.MethodId, out GrainMethodDescriptor method) || message.Target is null)
        {
            Reply(sender, message, new InvalidOperationException($"Silo {_agent.Local} knows no grain method {message.MethodId} (are all silos running the same version?)."));
            return;
        }

        GrainRequest request = method.CreateRequest();
        GrainId grainId;
        try
        {
            grainId = GrainId.Parse(message.Target);
            var reader = new Utf8JsonReader(message.Body.Span);
            request.ReadArguments(ref reader, _json);
        }
        catch (Exception exception)
        {
            Reply(sender, message, new ArgumentException($"The arguments of {method.DisplayName} could not be read: {exception.Message}"));
            return;
        }

        request.Target = new RemoteTargetReference(grainId, _runtime.Router);
        request.ForwardCount = message.ForwardCount;
        if (message.Kind == SiloMessageKind.Request)
        {
            request.CallerTask!.ContinueWith(
                static (task, state) =>
                {
                    var (self, peer, correlation, call) = ((MessageCenter, SiloAddress, long, GrainRequest))state!;
                    self.SendResponse(peer, correlation, call, task);
                },
                (this, sender, message.CorrelationId, request),
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }

        _runtime.Router.DeliverFromPeer(request);
    }

    private void SendResponse(SiloAddress peer, long correlation, GrainRequest request, Task outcome)
    {
        SiloMessage response;
        if (outcome.IsCompletedSuccessfully)
        {
            byte[] body;
            try
            {
                body = GrainJson.ToUtf8Bytes((request, _json), static (writer, s) => s.request.WriteResponse(writer, s._json));
            }
            catch (Exception exception)
            {
                SendFailure(peer, correlation, new InvalidOperationException($"The result of {request} cannot be sent back: {exception.Message}"));
                return;
            }

            response = new SiloMessage { Kind = SiloMessageKind.Response, CorrelationId = correlation, Body = body };
        }
        else
        {
            Exception exception = outcome.Exception?.InnerException ?? new OperationCanceledException($"{request} was cancelled.");
            SendFailure(peer, correlation, exception);
            return;
        }

        Interlocked.Increment(ref _sent);
        _transport.Send(peer, response);
    }

    private void Reply(SiloAddress peer, SiloMessage request, Exception exception)
    {
        if (request.Kind == SiloMessageKind.Request)
        {
            SendFailure(peer, request.CorrelationId, exception);
        }
    }

    private void SendFailure(SiloAddress peer, long correlation, Exception exception)
    {
        Interlocked.Increment(ref _sent);
        _transport.Send(peer, new SiloMessage { Kind = SiloMessageKind.Failure, CorrelationId = correlation, Body = RemoteExceptionCodec.Encode(exception) });
    }

    private readonly record struct PendingCall(GrainRequest Request, SiloAddress Target, long SentAt);

    /// <summary>The target of a request that came from another silo.</summary>
    private sealed class RemoteTargetReference(GrainId grainId, IGrainCallSink sink) : GrainReference(grainId, sink);
}
