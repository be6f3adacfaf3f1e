using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging;
using PresenceGrid.Runtime.GrainDirectory;

namespace PresenceGrid.Runtime.Networking;

/// <summary>
/// One authenticated connection to a peer silo, dialed or accepted: the handshake, then a reader loop that parses frames
/// and hands them to the handler, and a single writer loop that drains a bounded queue in batches of up to
/// <see cref="FlushThresholdBytes"/> per flush.
/// </summary>
internal sealed class SiloConnection
{
    /// <summary>The writer flushes once this much is buffered, or when the queue is empty.</summary>
    public const int FlushThresholdBytes = 64 * 1024;

    private static readonly TimeSpan GracefulCloseTimeout = TimeSpan.FromSeconds(2);

    private readonly KestrelSiloTransport _transport;
    private readonly ConnectionContext _context;
    private readonly SiloAddress? _expectedPeer;
    private readonly Channel<SiloMessage> _queue;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<SiloConnection> _established = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ILogger _logger;
    private long _lastReadTicks;
    private long _lastWriteTicks;
    private int _unansweredPings;
    private int _closing;
    private string? _closeReason;

    public SiloConnection(KestrelSiloTransport transport, ConnectionContext context, bool dialer, SiloAddress? expectedPeer, ILogger logger)
    {
        _transport = transport;
        _context = context;
        IsDialer = dialer;
        _expectedPeer = expectedPeer;
        _logger = logger;
        _queue = Channel.CreateBounded<SiloMessage>(new BoundedChannelOptions(transport.Options.MaxQueuedPerPeer)
        {
            SingleReader = true,
            SingleWriter = false,
            AllowSynchronousContinuations = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _lastReadTicks = _lastWriteTicks = Environment.TickCount64;
    }

    /// <summary>True for a connection this silo dialed.</summary>
    public bool IsDialer { get; }

    /// <summary>The authenticated peer; null until the handshake completes.</summary>
    public SiloAddress? Peer { get; private set; }

    /// <summary>True once the connection started closing: it accepts no more messages.</summary>
    public bool IsClosing => Volatile.Read(ref _closing) != 0;

    /// <summary>Completes when the handshake succeeded (and the connection is registered); fails when it did not.</summary>
    public Task<SiloConnection> Established => _established.Task;

    public string RemoteEndPoint => _context.RemoteEndPoint?.ToString() ?? "?";

    /// <summary>Queues a message; false when the queue is full or the connection is closing.</summary>
    public bool TryEnqueue(SiloMessage message) => _queue.Writer.TryWrite(message);

    /// <summary>Runs the connection to its end: handshake, loops, and clean-up. Never throws.</summary>
    public async Task RunAsync()
    {
        bool registered = false;
        try
        {
            try
            {
                await HandshakeAsync().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                _transport.Instruments?.HandshakeFailures.Add(1);
                string reason = ex is OperationCanceledException && !_stop.IsCancellationRequested ? "handshake timed out" : ex.Message;
                NetworkingLog.HandshakeFailed(_logger, IsDialer ? "outbound" : "inbound", RemoteEndPoint, reason);
                _established.TrySetException(new SiloUnavailableException(
                    $"Handshake with {_expectedPeer?.ToString() ?? RemoteEndPoint} failed: {reason}", ex));
                return;
            }

            if (!_transport.Register(this))
            {
                _established.TrySetException(new SiloUnavailableException($"Connection to {Peer} was refused: the silo is dead or the transport is stopping."));
                return;
            }

            registered = true;
            NetworkingLog.ConnectionEstablished(_logger, Peer!.ToString(), IsDialer ? "outbound" : "inbound", RemoteEndPoint);
            _established.TrySetResult(this);

            var reading = ReadLoopAsync();
            var writing = WriteLoopAsync();
            var first = await Task.WhenAny(reading, writing).ConfigureAwait(false);
            if (first == writing && !_stop.IsCancellationRequested)
            {
                // Graceful close: everything queued was written and the output completed; give the peer a moment to close its side.
                await reading.WaitAsync(GracefulCloseTimeout).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            _closeReason ??= first == reading ? "the peer closed the connection" : "closed";
            Stop();
            await Task.WhenAll(reading, writing).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        catch (Exception ex)
        {
            _closeReason ??= ex.Message;
        }
        finally
        {
            Volatile.Write(ref _closing, 1);
            _queue.Writer.TryComplete();
            Stop();
            _established.TrySetException(new SiloUnavailableException($"Connection to {_expectedPeer?.ToString() ?? RemoteEndPoint} closed: {_closeReason}"));
            if (registered)
            {
                _transport.Unregister(this, _closeReason ?? "closed");
            }

            FailQueued();
            await DisposeContextAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Closes at once: nothing more is written, queued messages fail. With <paramref name="reset"/> the socket closes with RST.</summary>
    public void Abort(string reason, bool reset)
    {
        _closeReason ??= reason;
        Volatile.Write(ref _closing, 1);
        _queue.Writer.TryComplete();
        if (reset)
        {
            try
            {
                if (_context.Features.Get<IConnectionSocketFeature>()?.Socket is { } socket)
                {
                    socket.LingerState = new LingerOption(true, 0);
                }
            }
            catch (ObjectDisposedException)
            {
            }
        }

        Stop();
    }

    /// <summary>Closes gracefully: what is queued is written, then the output completes.</summary>
    public void CloseGracefully(string reason)
    {
        _closeReason ??= reason;
        Volatile.Write(ref _closing, 1);
        _queue.Writer.TryComplete();
    }

    /// <summary>
    /// Called by the transport's timer: pings when this side wrote nothing or heard nothing for an interval, and closes the
    /// connection when the peer stayed silent for three intervals <em>and</em> at least two pings went unanswered (so a stall
    /// of this process, which also delays the timer, is not mistaken for a dead peer).
    /// </summary>
    public void CheckLiveness(long nowTicks, long pingIntervalMs)
    {
        if (Peer is null || IsClosing)
        {
            return;
        }

        long silentMs = nowTicks - Volatile.Read(ref _lastReadTicks);
        if (silentMs > 3 * pingIntervalMs && Volatile.Read(ref _unansweredPings) >= 2)
        {
            NetworkingLog.PeerSilent(_logger, Peer.ToString(), silentMs);
            Abort($"the peer was silent for {silentMs} ms", reset: true);
            return;
        }

        if ((silentMs >= pingIntervalMs || nowTicks - Volatile.Read(ref _lastWriteTicks) >= pingIntervalMs)
            && _queue.Writer.TryWrite(FrameCodec.PingMessage))
        {
            Interlocked.Increment(ref _unansweredPings);
        }
    }

    private void Stop()
    {
        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }

        _context.Abort(new ConnectionAbortedException(_closeReason ?? "closed"));
    }

    private async Task HandshakeAsync()
    {
        var options = _transport.Options;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(options.HandshakeTimeout);
        var ct = timeout.Token;

        // Refuse any traffic before this silo knows who it is.
        var local = _transport.LocalSilo ?? throw new InvalidOperationException("this silo has no identity yet");
        byte[] myHello = SiloHandshake.CreateHello(IsDialer, options.ClusterId, local);
        var input = _context.Transport.Input;
        var output = _context.Transport.Output;

        var writeHello = SiloHandshake.WriteBlockAsync(output, myHello, ct).AsTask();
        byte[] peerHello;
        try
        {
            peerHello = await SiloHandshake.ReadBlockAsync(input, ct).ConfigureAwait(false);
        }
        finally
        {
            await writeHello.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        await writeHello.ConfigureAwait(false);
        var parsed = SiloHandshake.ParseHello(peerHello, out string? error) ?? throw new InvalidDataException(error);
        if (parsed.Dialer == IsDialer)
        {
            throw new InvalidDataException("both ends claim the same role");
        }

        if (!string.Equals(parsed.ClusterId, options.ClusterId, StringComparison.Ordinal))
        {
            throw new SiloAuthenticationException($"cluster id '{parsed.ClusterId}' is not '{options.ClusterId}'");
        }

        if (_expectedPeer is not null && parsed.Silo != _expectedPeer)
        {
            throw new InvalidDataException($"the endpoint is silo {parsed.Silo}, not {_expectedPeer}");
        }

        if (_transport.IsDead(parsed.Silo))
        {
            throw new InvalidDataException($"silo {parsed.Silo} is dead");
        }

        byte[] proof = SiloHandshake.ComputeProof(_transport.SigningKey, IsDialer, myHello, peerHello);
        var writeProof = SiloHandshake.WriteBlockAsync(output, proof, ct).AsTask();
        byte[] peerProof;
        try
        {
            peerProof = await SiloHandshake.ReadBlockAsync(input, ct).ConfigureAwait(false);
        }
        finally
        {
            await writeProof.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        await writeProof.ConfigureAwait(false);
        if (peerProof.Length != SiloHandshake.ProofBytes
            || !SiloHandshake.VerifyProof(_transport.AcceptedKeys, parsed.Dialer, peerProof, peerHello, myHello))
        {
            throw new SiloAuthenticationException($"silo {parsed.Silo} did not prove it knows the cluster secret");
        }

        // Each side confirms it accepted the other's proof, so neither treats as open a connection the peer refused.
        var writeAccept = SiloHandshake.WriteBlockAsync(output, SiloHandshake.Accepted, ct).AsTask();
        byte[] peerAccept;
        try
        {
            peerAccept = await SiloHandshake.ReadBlockAsync(input, ct).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            throw new SiloAuthenticationException($"silo {parsed.Silo} refused this silo's proof (secret or identity) and closed the connection", ex);
        }
        finally
        {
            await writeAccept.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        await writeAccept.ConfigureAwait(false);
        if (!peerAccept.AsSpan().SequenceEqual(SiloHandshake.Accepted))
        {
            throw new InvalidDataException($"silo {parsed.Silo} did not confirm the handshake");
        }

        Peer = parsed.Silo;
        Volatile.Write(ref _lastReadTicks, Environment.TickCount64);
    }

    private async Task ReadLoopAsync()
    {
        var input = _context.Transport.Input;
        var options = _transport.Options;
        var handler = _transport.Handler;
        var peer = Peer!;
        var instruments = _transport.Instruments;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(_stop.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                long before = buffer.Length;
                int frames = 0;
                try
                {
                    while (FrameCodec.TryRead(ref buffer, options.MaxHeaderBytes, options.MaxBodyBytes, out var message))
                    {
                        frames++;
                        if (FrameCodec.IsInternal(message!.Kind))
                        {
                            if (message.Kind == FrameCodec.Ping)
                            {
                                _queue.Writer.TryWrite(FrameCodec.PongMessage);
                            }

                            continue;
                        }

                        try
                        {
                            handler.OnMessage(peer, message);
                        }
                        catch (Exception ex)
                        {
                            NetworkingLog.HandlerFailed(_logger, ex, peer.ToString(), message.Kind);
                        }
                    }
                }
                catch (InvalidDataException ex)
                {
                    input.AdvanceTo(buffer.Start);
                    NetworkingLog.ProtocolViolation(_logger, peer.ToString(), ex.Message);
                    _closeReason ??= $"protocol violation: {ex.Message}";
                    return;
                }

                if (frames > 0)
                {
                    Volatile.Write(ref _lastReadTicks, Environment.TickCount64);
                    Volatile.Write(ref _unansweredPings, 0);
                    if (instruments is not null)
                    {
                        instruments.FramesReceived.Add(frames);
                        instruments.BytesReceived.Add(before - buffer.Length);
                    }
                }

                input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ConnectionResetException or ConnectionAbortedException or IOException or SocketException or ObjectDisposedException)
        {
            _closeReason ??= ex.Message;
        }
    }

    private async Task WriteLoopAsync()
    {
        var output = _context.Transport.Output;
        var reader = _queue.Reader;
        var instruments = _transport.Instruments;
        try
        {
            while (await reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
            {
                int bytes = 0;
                int frames = 0;
                while (bytes < FlushThresholdBytes && reader.TryRead(out var message))
                {
                    bytes += FrameCodec.Write(output, message);
                    frames++;
                }

                if (frames == 0)
                {
                    continue;
                }

                var flush = await output.FlushAsync(_stop.Token).ConfigureAwait(false);
                Volatile.Write(ref _lastWriteTicks, Environment.TickCount64);
                if (instruments is not null)
                {
                    instruments.FramesSent.Add(frames);
                    instruments.BytesSent.Add(bytes);
                    instruments.Flushes.Add(1);
                }

                if (flush.IsCompleted || flush.IsCanceled)
                {
                    _closeReason ??= "the peer stopped reading";
                    return;
                }
            }

            // The queue completed: a graceful close. Complete the output so the peer sees the end.
            await output.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ConnectionResetException or ConnectionAbortedException or IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            _closeReason ??= ex.Message;
        }
    }

    private void FailQueued()
    {
        if (Peer is null)
        {
            return;
        }

        while (_queue.Reader.TryRead(out var message))
        {
            if (!FrameCodec.IsInternal(message.Kind))
            {
                _transport.ReportSendFailed(Peer, message, new SiloUnavailableException(
                    $"The connection to silo {Peer} closed ({_closeReason}) before {message} was written."));
            }
        }
    }

    private async Task DisposeContextAsync()
    {
        // Kestrel disposes the connections it accepted once the connection delegate returns.
        if (!IsDialer)
        {
            return;
        }

        try
        {
            await _context.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            NetworkingLog.DisposeFailed(_logger, ex, RemoteEndPoint);
        }
    }
}
