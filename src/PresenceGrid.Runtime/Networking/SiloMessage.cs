using PresenceGrid.Runtime.GrainDirectory;

namespace PresenceGrid.Runtime.Networking;

/// <summary>What a frame between silos carries.</summary>
internal enum SiloMessageKind : byte
{
    /// <summary>A grain call that waits for a response (Target = grain id, MethodId, Body = JSON arguments).</summary>
    Request = 1,

    /// <summary>A <c>[OneWay]</c> grain call: no response.</summary>
    OneWay = 2,

    /// <summary>A successful response (CorrelationId of the request, Body = JSON result or empty).</summary>
    Response = 3,

    /// <summary>The call failed in grain code or was rejected (Body = UTF-8 JSON <c>{"type":…,"message":…}</c>).</summary>
    Failure = 4,

    /// <summary>A silo-level message for a named channel (Target = channel name), e.g. presence replication.</summary>
    System = 5,
}

/// <summary>
/// One message between silos. The transport frames it as
/// <c>[u32 LE header length][u32 LE body length][header][body]</c> and never interprets the body.
/// </summary>
internal sealed class SiloMessage
{
    /// <summary>What the message is.</summary>
    public SiloMessageKind Kind { get; init; }

    /// <summary>Pairs a response with its request (unique per sending silo); 0 for one-way and system messages.</summary>
    public long CorrelationId { get; init; }

    /// <summary>The target grain id (<c>type/key</c>) for calls, or the channel for system messages; null for responses.</summary>
    public string? Target { get; init; }

    /// <summary>The grain method's stable id (<see cref="Invocation.GrainMethodDescriptor.MethodId"/>), 0 otherwise.</summary>
    public uint MethodId { get; init; }

    /// <summary>How many times the message was forwarded (stale placement); bounded by the receiver.</summary>
    public int ForwardCount { get; init; }

    /// <summary>Milliseconds the caller still waits (relative, so clocks never matter); 0 for none.</summary>
    public int TimeToLiveMs { get; init; }

    /// <summary>The payload.</summary>
    public ReadOnlyMemory<byte> Body { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"{Kind} #{CorrelationId} {Target} m{MethodId} ({Body.Length} B)";
}

/// <summary>What the transport calls back into the runtime. Calls come from I/O threads and must not block.</summary>
internal interface ISiloMessageHandler
{
    /// <summary>A message arrived from an authenticated peer.</summary>
    /// <param name="sender">The peer silo.</param>
    /// <param name="message">The message.</param>
    void OnMessage(SiloAddress sender, SiloMessage message);

    /// <summary>A message could not be sent (peer dead, unreachable, or its connection broke before the write).</summary>
    /// <param name="target">The peer silo.</param>
    /// <param name="message">The message.</param>
    /// <param name="exception">Why (a <see cref="SiloUnavailableException"/>).</param>
    void OnSendFailed(SiloAddress target, SiloMessage message, Exception exception);

    /// <summary>A connection to a peer closed; requests it carried will never be answered over it.</summary>
    /// <param name="peer">The peer silo.</param>
    void OnConnectionClosed(SiloAddress peer);

    /// <summary>True when <paramref name="silo"/> is known dead: the transport refuses its handshakes and never dials it.</summary>
    /// <param name="silo">The silo.</param>
    /// <returns>True when dead.</returns>
    bool IsDead(SiloAddress silo);
}

/// <summary>Silo-to-silo connections: listens on the silo port, dials peers on demand, authenticates both ends with the cluster secret.</summary>
internal interface ISiloTransport : IAsyncDisposable
{
    /// <summary>Starts listening; returns the bound endpoint (<c>host:port</c>, the real port when 0 was asked).</summary>
    /// <param name="handler">Receives messages and failures.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The endpoint peers dial.</returns>
    Task<string> StartAsync(ISiloMessageHandler handler, CancellationToken cancellationToken);

    /// <summary>Sets this silo's identity (known after joining membership); handshakes before it are refused.</summary>
    /// <param name="local">This silo.</param>
    void SetLocalSilo(SiloAddress local);

    /// <summary>Queues a message for a peer; never blocks. Failures come back through <see cref="ISiloMessageHandler.OnSendFailed"/>.</summary>
    /// <param name="target">The peer.</param>
    /// <param name="message">The message.</param>
    void Send(SiloAddress target, SiloMessage message);

    /// <summary>A peer was declared dead: fail what is queued for it and close its connections.</summary>
    /// <param name="silo">The dead silo.</param>
    void OnSiloDead(SiloAddress silo);

    /// <summary>Closes the listener and every connection abruptly (a kill: no goodbye).</summary>
    /// <returns>A task.</returns>
    Task AbortAsync();
}
