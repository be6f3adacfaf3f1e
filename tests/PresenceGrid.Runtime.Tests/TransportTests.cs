using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using PresenceGrid.Runtime.Diagnostics;
using PresenceGrid.Runtime.GrainDirectory;
using PresenceGrid.Runtime.Networking;
using PresenceGrid.Testing;

namespace PresenceGrid.Runtime.Tests;

/// <summary>The Kestrel silo transport between real sockets on loopback; every wait is bounded by a deadline.</summary>
public sealed class TransportTests : IAsyncLifetime
{
    private const string Secret = "correct horse battery staple";
    private const string OtherSecret = "a completely different secret";
    private readonly List<KestrelSiloTransport> _transports = [];
    private readonly LogCollector _logs = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var transport in _transports)
        {
            await transport.DisposeAsync();
        }
    }

    [Fact]
    public async Task RequestResponse_BothDirections_ShareOneConnection()
    {
        var (a, aSilo, aHandler) = await StartAsync();
        var (b, bSilo, bHandler) = await StartAsync();
        aHandler.EchoRequests = a;
        bHandler.EchoRequests = b;

        a.Send(bSilo, new SiloMessage
        {
            Kind = SiloMessageKind.Request, CorrelationId = 41, Target = "counter/é-key", MethodId = 0xDEADBEEF,
            ForwardCount = 2, TimeToLiveMs = 30_000, Body = "[1,2]"u8.ToArray(),
        });
        await Eventually.TrueAsync(() => aHandler.Received.Count == 1, "A gets the response to its request");
        b.Send(aSilo, new SiloMessage { Kind = SiloMessageKind.Request, CorrelationId = 42, Target = "t/1", Body = "{}"u8.ToArray() });
        await Eventually.TrueAsync(() => bHandler.Received.Count == 2, "B gets A's request and the response to its own");

        var request = bHandler.Received.First().Message;
        Assert.Equal(aSilo, bHandler.Received.First().Sender);
        Assert.Equal((SiloMessageKind.Request, 41L, "counter/é-key", 0xDEADBEEFu, 2, 30_000), (request.Kind, request.CorrelationId, request.Target, request.MethodId, request.ForwardCount, request.TimeToLiveMs));
        Assert.Equal("[1,2]"u8.ToArray(), request.Body.ToArray());

        var response = aHandler.Received.Single(m => m.Message.Kind == SiloMessageKind.Response).Message;
        Assert.Equal(bSilo, aHandler.Received.Single(m => m.Message.Kind == SiloMessageKind.Response).Sender);
        Assert.Equal(41, response.CorrelationId);
        Assert.Null(response.Target);
        Assert.Equal("[1,2]"u8.ToArray(), response.Body.ToArray());
        Assert.Equal(42, bHandler.Received.Single(m => m.Message.Kind == SiloMessageKind.Response).Message.CorrelationId);

        // B answered over the connection A dialed: one connection serves both directions.
        Assert.Equal(1, a.ConnectionCount);
        Assert.Equal(1, b.ConnectionCount);
        Assert.Empty(aHandler.Failed);
        Assert.Empty(bHandler.Failed);
    }

    [Fact]
    public async Task ManySmallMessages_ArriveInOrder_InBatchedFlushes()
    {
        const int Count = 100_000;
        using var instruments = new RuntimeInstruments(null);
        long flushes = 0;
        long framesSent = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument == instruments.Flushes || instrument == instruments.FramesSent)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
            Interlocked.Add(ref instrument == instruments.Flushes ? ref flushes : ref framesSent, value));
        listener.Start();

        // Room for the pings the connection queues too: a queue of exactly Count could refuse a message
        // while the writer is slow (a loaded machine), and the wait below would time out on it.
        var (a, _, aHandler) = await StartAsync(o => o.MaxQueuedPerPeer = Count + 1_000, instruments);
        var (_, bSilo, bHandler) = await StartAsync();
        long next = 0;
        bool inOrder = true;
        bHandler.OnReceived = m =>
        {
            inOrder &= m.CorrelationId == next;
            next++;
        };

        // The first message opens the connection; the rest go over it. (Queued behind a dial that a
        // starved machine lets time out, all of them would fail at once, and this test is about order
        // and batching, not about dialing under load.)
        byte[] body = new byte[16];
        a.Send(bSilo, new SiloMessage { Kind = SiloMessageKind.OneWay, CorrelationId = 0, Target = "g/1", Body = body });
        await Eventually.TrueAsync(() => Volatile.Read(ref next) == 1, "the first message arrives", 30_000);
        for (int i = 1; i < Count; i++)
        {
            a.Send(bSilo, new SiloMessage { Kind = SiloMessageKind.OneWay, CorrelationId = i, Target = "g/1", Body = body });
        }

        await Eventually.TrueAsync(
            () => Volatile.Read(ref next) == Count || !aHandler.Failed.IsEmpty,
            $"{Count} messages arrive",
            30_000);
        Assert.Empty(aHandler.Failed);
        Assert.Equal(Count, Volatile.Read(ref next));
        Assert.True(inOrder, "messages arrived out of order");
        Assert.Empty(bHandler.Failed);
        Assert.True(Interlocked.Read(ref framesSent) >= Count, $"frames sent {framesSent}");
        long batches = Interlocked.Read(ref flushes);
        Assert.InRange(batches, 1, Count / 10);
    }

    [Fact]
    public async Task WrongSecret_HandshakeRefused_NothingDelivered_SendFails()
    {
        var (a, _, aHandler) = await StartAsync();
        var (_, bSilo, bHandler) = await StartAsync(o => o.Secret = OtherSecret);

        a.Send(bSilo, OneWay(1));

        await Eventually.TrueAsync(() => aHandler.Failed.Count == 1, "the send fails");
        Assert.IsType<SiloUnavailableException>(aHandler.Failed.Single().Exception);
        Assert.Empty(bHandler.Received);
        Assert.Equal(0, a.ConnectionCount);
    }

    [Fact]
    public async Task WrongClusterId_HandshakeRefused()
    {
        var (a, _, aHandler) = await StartAsync();
        var (_, bSilo, bHandler) = await StartAsync(o => o.ClusterId = "another-cluster");

        a.Send(bSilo, OneWay(1));

        await Eventually.TrueAsync(() => aHandler.Failed.Count == 1, "the send fails");
        Assert.IsType<SiloUnavailableException>(aHandler.Failed.Single().Exception);
        Assert.Empty(bHandler.Received);
    }

    [Fact]
    public async Task PeerReportedDead_HandshakeRefused_AndNeverDialed()
    {
        var (a, aSilo, aHandler) = await StartAsync();
        var (b, bSilo, bHandler) = await StartAsync();
        bHandler.DeadSilos.Add(aSilo);

        a.Send(bSilo, OneWay(1));
        await Eventually.TrueAsync(() => aHandler.Failed.Count == 1, "A's send is refused by B");
        Assert.Empty(bHandler.Received);

        b.Send(aSilo, OneWay(2));
        Assert.Single(bHandler.Failed); // synchronously: B never dials a dead silo
        Assert.IsType<SiloUnavailableException>(bHandler.Failed.Single().Exception);
        Assert.Empty(aHandler.Received);
    }

    [Fact]
    public async Task OversizedFrame_ClosesTheConnection()
    {
        var (a, aSilo, aHandler) = await StartAsync();
        var (_, bSilo, bHandler) = await StartAsync(o => o.MaxBodyBytes = 1024);
        a.Send(bSilo, OneWay(1));
        await Eventually.TrueAsync(() => bHandler.Received.Count == 1, "the small message arrives");

        a.Send(bSilo, new SiloMessage { Kind = SiloMessageKind.OneWay, CorrelationId = 2, Body = new byte[4096] });

        await Eventually.TrueAsync(() => bHandler.Closed.Contains(aSilo), "B closes the connection");
        await Eventually.TrueAsync(() => aHandler.Closed.Contains(bSilo), "A sees it closed");
        Assert.Single(bHandler.Received);
    }

    [Fact]
    public async Task Abort_PeerSeesCloseQuickly_ThenSendsFailFast()
    {
        var (a, aSilo, _) = await StartAsync();
        var (b, bSilo, bHandler) = await StartAsync();
        b.Send(aSilo, OneWay(1));
        a.Send(bSilo, OneWay(2));
        await Eventually.TrueAsync(() => bHandler.Received.Count == 1, "the connection works");

        var clock = Stopwatch.StartNew();
        await a.AbortAsync();
        // Both silos dialed, so B may hold two connections to A: a send must not find one that has yet to see the close.
        await Eventually.TrueAsync(() => bHandler.Closed.Contains(aSilo) && b.ConnectionCount == 0, "B sees every connection to A close", 5_000);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");

        // The dial is refused (or, if the aborted listener's close is still pending on a loaded
        // machine, times out in the handshake): either way within the handshake timeout, never hanging.
        clock.Restart();
        b.Send(aSilo, OneWay(3));
        await Eventually.TrueAsync(() => bHandler.Failed.Count == 1, "the send to the killed silo fails", 8_000);
        Assert.IsType<SiloUnavailableException>(bHandler.Failed.Single().Exception);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), $"took {clock.Elapsed}");

        // The first failure may come from the closing connection rather than a dial; once a dial
        // has failed, the next send inside the back-off fails synchronously, without dialing.
        b.Send(aSilo, OneWay(4));
        await Eventually.TrueAsync(() => bHandler.Failed.Count == 2, "a send after the close fails", 8_000);
        b.Send(aSilo, OneWay(5));
        Assert.Equal(3, bHandler.Failed.Count);
    }

    [Fact]
    public async Task SendToEndpointNobodyListensOn_FailsWithinConnectTimeout()
    {
        var (a, _, aHandler) = await StartAsync(o => o.ConnectTimeout = TimeSpan.FromSeconds(2));
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();

        var clock = Stopwatch.StartNew();
        a.Send(new SiloAddress($"127.0.0.1:{port}", 1), OneWay(1));

        await Eventually.TrueAsync(() => aHandler.Failed.Count == 1, "the send fails", 5_000);
        Assert.IsType<SiloUnavailableException>(aHandler.Failed.Single().Exception);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2.5), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task SecretRotation_PreviousSecretIsAccepted()
    {
        // Phase 1 (old signs, new accepted) talks to phase 2 (new signs, old accepted); phase 2 talks to phase 3 (new only).
        var (p1, p1Silo, p1Handler) = await StartAsync(o => (o.Secret, o.PreviousSecret) = (Secret, OtherSecret));
        var (p2, p2Silo, p2Handler) = await StartAsync(o => (o.Secret, o.PreviousSecret) = (OtherSecret, Secret));
        var (p3, p3Silo, p3Handler) = await StartAsync(o => o.Secret = OtherSecret);

        p1.Send(p2Silo, OneWay(1));
        p2.Send(p1Silo, OneWay(2));
        p2.Send(p3Silo, OneWay(3));
        p3.Send(p2Silo, OneWay(4));
        await Eventually.TrueAsync(() => p2Handler.Received.Count == 2 && p1Handler.Received.Count == 1 && p3Handler.Received.Count == 1, "all four arrive");

        // Phase 1 (old signs) and phase 3 (new only) do not overlap: refused.
        p1.Send(p3Silo, OneWay(5));
        await Eventually.TrueAsync(() => p1Handler.Failed.Count == 1, "old-only signer refused by new-only silo");
        Assert.Single(p3Handler.Received);
    }

    [Fact]
    public async Task NoLocalSilo_SendFails_AndInboundHandshakeRefused()
    {
        var (a, _, aHandler) = await StartAsync();
        var handler = new RecordingHandler();
        var b = Track(new KestrelSiloTransport(NewOptions()));
        var bSilo = new SiloAddress(await b.StartAsync(handler, CancellationToken.None), 1);

        b.Send(new SiloAddress("127.0.0.1:1", 1), OneWay(1));
        Assert.Single(handler.Failed);

        a.Send(bSilo, OneWay(2));
        await Eventually.TrueAsync(() => aHandler.Failed.Count == 1, "B refuses before it knows who it is");
        Assert.Empty(handler.Received);
    }

    [Fact]
    public async Task OnSiloDead_ClosesConnections_AndNeverDialsAgain()
    {
        var (a, aSilo, aHandler) = await StartAsync();
        var (_, bSilo, bHandler) = await StartAsync();
        a.Send(bSilo, OneWay(1));
        await Eventually.TrueAsync(() => bHandler.Received.Count == 1, "the connection works");

        a.OnSiloDead(bSilo);

        await Eventually.TrueAsync(() => bHandler.Closed.Contains(aSilo) && aHandler.Closed.Contains(bSilo), "both sides see the close");
        a.Send(bSilo, OneWay(2));
        Assert.Single(aHandler.Failed);
        Assert.IsType<SiloUnavailableException>(aHandler.Failed.Single().Exception);
        Assert.Equal(0, a.ConnectionCount);
    }

    [Fact]
    public async Task Dispose_WritesWhatIsQueued_ThenPeerSeesClose()
    {
        var (a, aSilo, _) = await StartAsync();
        var (_, bSilo, bHandler) = await StartAsync();
        a.Send(bSilo, OneWay(0));
        await Eventually.TrueAsync(() => bHandler.Received.Count == 1, "the connection works");

        for (int i = 1; i <= 1000; i++)
        {
            a.Send(bSilo, OneWay(i));
        }

        await a.DisposeAsync();

        await Eventually.TrueAsync(() => bHandler.Closed.Contains(aSilo), "B sees an orderly close");
        Assert.Equal(1001, bHandler.Received.Count);
    }

    [Fact]
    public async Task IdleConnection_StaysOpenThroughPings()
    {
        using var instruments = new RuntimeInstruments(null);
        long framesReceivedByB = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument == instruments.FramesReceived)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref framesReceivedByB, value));
        listener.Start();

        var (a, aSilo, aHandler) = await StartAsync(o => o.PingInterval = TimeSpan.FromMilliseconds(200));
        var (b, bSilo, bHandler) = await StartAsync(o => o.PingInterval = TimeSpan.FromMilliseconds(200), instruments);
        a.Send(bSilo, OneWay(1));
        await Eventually.TrueAsync(() => bHandler.Received.Count == 1, "the connection works");

        // Several silence windows (3 intervals each) pass while pings keep the connection alive: wait
        // for twenty ping/pong frames (10 a second) to reach B. Pings are never surfaced to the handler.
        long start = Interlocked.Read(ref framesReceivedByB);
        await Eventually.TrueAsync(() => Interlocked.Read(ref framesReceivedByB) >= start + 20, "twenty ping and pong frames reach B (over three silence windows)", 10_000);

        Assert.True(aHandler.Closed.IsEmpty && bHandler.Closed.IsEmpty, _logs.ToString());
        Assert.Single(bHandler.Received);
        Assert.Empty(aHandler.Received);
        b.Send(aSilo, OneWay(2));
        await Eventually.TrueAsync(() => aHandler.Received.Count == 1, "the same connection still works");
        Assert.Equal(1, a.ConnectionCount);
    }

    [Fact]
    public async Task HalfOpenPeer_ThatGoesSilent_IsClosedAfterThreePingIntervals()
    {
        var (a, aSilo, aHandler) = await StartAsync(o => o.PingInterval = TimeSpan.FromMilliseconds(200));
        var fake = new SiloAddress("127.0.0.1:1", 7);
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, int.Parse(aSilo.Endpoint.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture));
        var stream = client.GetStream();
        var input = System.IO.Pipelines.PipeReader.Create(stream);
        var output = System.IO.Pipelines.PipeWriter.Create(stream);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));

        // A hand-driven dialer that knows the secret completes the handshake...
        byte[] hello = SiloHandshake.CreateHello(dialer: true, "test-cluster", fake);
        await SiloHandshake.WriteBlockAsync(output, hello, cts.Token);
        byte[] peerHello = await SiloHandshake.ReadBlockAsync(input, cts.Token);
        await SiloHandshake.WriteBlockAsync(output, SiloHandshake.ComputeProof(System.Text.Encoding.UTF8.GetBytes(Secret), true, hello, peerHello), cts.Token);
        await SiloHandshake.ReadBlockAsync(input, cts.Token);
        await SiloHandshake.WriteBlockAsync(output, SiloHandshake.Accepted, cts.Token);
        Assert.Equal(SiloHandshake.Accepted, await SiloHandshake.ReadBlockAsync(input, cts.Token));
        await Eventually.TrueAsync(() => a.ConnectionCount == 1, "A registers the connection");
        var clock = Stopwatch.StartNew();

        // ...then never answers a ping (the socket stays open: half-open from A's point of view).
        await Eventually.TrueAsync(() => aHandler.Closed.Contains(fake), "A closes the silent connection", 5_000);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(3));
    }

    [Fact]
    public void Options_AreValidated_WithoutEchoingTheSecret()
    {
        var options = NewOptions();
        options.Secret = "short-secret";
        options.ClusterId = "";
        options.MaxQueuedPerPeer = 0;

        var ex = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => new KestrelSiloTransport(options));

        Assert.Equal(3, ex.Failures.Count());
        Assert.DoesNotContain("short-secret", ex.Message, StringComparison.Ordinal);
    }

    private static SiloMessage OneWay(long id) =>
        new() { Kind = SiloMessageKind.OneWay, CorrelationId = id, Target = "g/1", Body = new byte[8] };

    private static SiloTransportOptions NewOptions() => new()
    {
        ClusterId = "test-cluster",
        Secret = Secret,
        ConnectTimeout = TimeSpan.FromSeconds(3),
        HandshakeTimeout = TimeSpan.FromSeconds(3),
    };

    private async Task<(KestrelSiloTransport Transport, SiloAddress Silo, RecordingHandler Handler)> StartAsync(
        Action<SiloTransportOptions>? configure = null, RuntimeInstruments? instruments = null)
    {
        var options = NewOptions();
        configure?.Invoke(options);
        var handler = new RecordingHandler();
        var transport = Track(new KestrelSiloTransport(options, _logs, instruments));
        string endpoint = await transport.StartAsync(handler, CancellationToken.None);
        var silo = new SiloAddress(endpoint, 1);
        transport.SetLocalSilo(silo);
        return (transport, silo, handler);
    }

    private KestrelSiloTransport Track(KestrelSiloTransport transport)
    {
        _transports.Add(transport);
        return transport;
    }

    /// <summary>Keeps the transport's log lines so a failure can show what the transport saw.</summary>
    private sealed class LogCollector : Microsoft.Extensions.Logging.ILoggerFactory, Microsoft.Extensions.Logging.ILogger
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => this;

        public void AddProvider(Microsoft.Extensions.Logging.ILoggerProvider provider)
        {
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => logLevel >= Microsoft.Extensions.Logging.LogLevel.Debug;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _lines.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {eventId.Id} {formatter(state, exception)} {exception?.Message}");

        public void Dispose()
        {
        }

        public override string ToString() => string.Join(Environment.NewLine, _lines);
    }

    private sealed class RecordingHandler : ISiloMessageHandler
    {
        public ConcurrentQueue<(SiloAddress Sender, SiloMessage Message)> Received { get; } = new();

        public ConcurrentQueue<(SiloAddress Target, SiloMessage Message, Exception Exception)> Failed { get; } = new();

        public ConcurrentQueue<SiloAddress> Closed { get; } = new();

        public ConcurrentBag<SiloAddress> DeadSilos { get; } = [];

        /// <summary>When set, requests are answered with a response echoing the body.</summary>
        public ISiloTransport? EchoRequests { get; set; }

        /// <summary>When set, called instead of recording (for volume tests).</summary>
        public Action<SiloMessage>? OnReceived { get; set; }

        public void OnMessage(SiloAddress sender, SiloMessage message)
        {
            if (OnReceived is { } onReceived)
            {
                onReceived(message);
                return;
            }

            Received.Enqueue((sender, message));
            if (EchoRequests is { } transport && message.Kind == SiloMessageKind.Request)
            {
                transport.Send(sender, new SiloMessage { Kind = SiloMessageKind.Response, CorrelationId = message.CorrelationId, Body = message.Body });
            }
        }

        public void OnSendFailed(SiloAddress target, SiloMessage message, Exception exception) => Failed.Enqueue((target, message, exception));

        public void OnConnectionClosed(SiloAddress peer) => Closed.Enqueue(peer);

        public bool IsDead(SiloAddress silo) => DeadSilos.Contains(silo);
    }
}
