using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PresenceGrid.Runtime.Diagnostics;
using PresenceGrid.Runtime.GrainDirectory;

namespace PresenceGrid.Runtime.Networking;

/// <summary>
/// The silo transport on raw TCP: a private <see cref="KestrelServer"/> accepts on the silo port, peers are dialed with a
/// <see cref="Socket"/> wrapped by <see cref="SocketConnectionContextFactory"/>, and one <see cref="SiloConnection"/> class
/// serves both directions. Any authenticated connection to a peer carries traffic both ways; there is one pending dial per
/// peer, shared by concurrent senders, and after a failed dial sends fail at once until the back-off (0.5 s doubling to 5 s,
/// with jitter) expires. Self-contained, so many transports can run in one process.
/// </summary>
internal sealed class KestrelSiloTransport : ISiloTransport
{
    private readonly ConcurrentDictionary<SiloAddress, PeerState> _peers = new();
    private readonly ConcurrentDictionary<SiloAddress, byte> _dead = new();
    private readonly ConcurrentDictionary<SiloConnection, Task> _connections = new();
    private readonly CancellationTokenSource _shutdown = new();
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly ILogger _connectionLogger;
    private KestrelServer? _server;
    private SocketConnectionContextFactory? _dialFactory;
    private ITimer? _pingTimer;
    private ISiloMessageHandler? _handler;
    private SiloAddress? _local;
    private string _endpoint = "(not started)";
    private int _stopped;
    private int _disposed;

    public KestrelSiloTransport(SiloTransportOptions options, ILoggerFactory? loggerFactory = null, RuntimeInstruments? instruments = null)
    {
        var validation = options.Validate();
        if (validation.Failed)
        {
            throw new OptionsValidationException(nameof(SiloTransportOptions), typeof(SiloTransportOptions), validation.Failures);
        }

        Options = options;
        Instruments = instruments;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<KestrelSiloTransport>();
        _connectionLogger = _loggerFactory.CreateLogger<SiloConnection>();
        SigningKey = Encoding.UTF8.GetBytes(options.Secret);
        AcceptedKeys = options.PreviousSecret is null
            ? [SigningKey]
            : [SigningKey, Encoding.UTF8.GetBytes(options.PreviousSecret)];
    }

    public SiloTransportOptions Options { get; }

    public RuntimeInstruments? Instruments { get; }

    public ISiloMessageHandler Handler => _handler ?? throw new InvalidOperationException("The transport is not started.");

    public SiloAddress? LocalSilo => Volatile.Read(ref _local);

    /// <summary>The key this silo signs its proofs with (the current secret).</summary>
    public byte[] SigningKey { get; }

    /// <summary>The keys a peer's proof may be made with (current and previous secret).</summary>
    public IReadOnlyList<byte[]> AcceptedKeys { get; }

    /// <summary>Authenticated connections now open (for tests and diagnostics).</summary>
    internal int ConnectionCount => _connections.Keys.Count(c => c.Peer is not null && !c.IsClosing);

    private bool Stopped => Volatile.Read(ref _stopped) != 0;

    public async Task<string> StartAsync(ISiloMessageHandler handler, CancellationToken cancellationToken)
    {
        if (Interlocked.CompareExchange(ref _handler, handler, null) is not null)
        {
            throw new InvalidOperationException("The transport was already started.");
        }

        // The whole frame must fit in the input pipe, or the reader would wait forever for the rest of it.
        long maxFrame = FrameCodec.PrefixBytes + (long)Options.MaxHeaderBytes + Options.MaxBodyBytes;
        long readBuffer = Math.Max(1024 * 1024, maxFrame + (64 * 1024));
        var kestrelOptions = new KestrelServerOptions { AddServerHeader = false, ApplicationServices = EmptyServiceProvider.Instance };
        kestrelOptions.Limits.MaxRequestBufferSize = null;
        ListenOptions? listen = null;
        void Configure(ListenOptions lo)
        {
            listen = lo;
            lo.Protocols = HttpProtocols.Http1;
            lo.Run(OnAcceptedAsync);
        }

        if (string.Equals(Options.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            kestrelOptions.Listen(IPAddress.Loopback, Options.Port, Configure);
        }
        else
        {
            kestrelOptions.Listen(IPAddress.Parse(Options.Host), Options.Port, Configure);
        }

        var socketOptions = new SocketTransportOptions { NoDelay = true, MaxReadBufferSize = readBuffer, MaxWriteBufferSize = 1024 * 1024 };
        _server = new KestrelServer(
            Microsoft.Extensions.Options.Options.Create(kestrelOptions),
            new SocketTransportFactory(Microsoft.Extensions.Options.Options.Create(socketOptions), _loggerFactory),
            _loggerFactory);
        await _server.StartAsync(new NoHttpApplication(), cancellationToken).ConfigureAwait(false);

        _dialFactory = new SocketConnectionContextFactory(
            new SocketConnectionFactoryOptions { MaxReadBufferSize = readBuffer, MaxWriteBufferSize = 1024 * 1024 },
            _loggerFactory.CreateLogger<SocketConnectionContextFactory>());

        int port = listen?.IPEndPoint?.Port ?? Options.Port;
        string host = listen?.IPEndPoint?.Address.ToString() ?? Options.Host;
        _endpoint = host.Contains(':', StringComparison.Ordinal) ? $"[{host}]:{port}" : $"{host}:{port}";
        var interval = Options.PingInterval / 2;
        _pingTimer = TimeProvider.System.CreateTimer(static s => ((KestrelSiloTransport)s!).OnPingTimer(), this, interval, interval);
        NetworkingLog.Listening(_logger, _endpoint, Options.ClusterId);
        return _endpoint;
    }

    public void SetLocalSilo(SiloAddress local)
    {
        ArgumentNullException.ThrowIfNull(local);
        Volatile.Write(ref _local, local);
    }

    /// <summary>
    /// Queues a message for a peer. Never blocks. Failures (transport stopped, no identity yet, dead peer, back-off after a
    /// failed dial, full queue) are reported through <see cref="ISiloMessageHandler.OnSendFailed"/>, possibly synchronously on
    /// this thread. A header or body above the configured limits is a caller error and throws <see cref="ArgumentException"/>.
    /// </summary>
    public void Send(SiloAddress target, SiloMessage message)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(message);
        if (FrameCodec.IsInternal(message.Kind))
        {
            throw new ArgumentException($"Message kind {(byte)message.Kind} is reserved for the transport.", nameof(message));
        }

        if (message.Body.Length > Options.MaxBodyBytes || FrameCodec.HeaderLength(message) > Options.MaxHeaderBytes)
        {
            throw new ArgumentException(
                $"{message} exceeds the frame limits (header {Options.MaxHeaderBytes} B, body {Options.MaxBodyBytes} B).", nameof(message));
        }

        if (Stopped || _handler is null)
        {
            ReportSendFailed(target, message, new SiloUnavailableException($"The silo transport is not running; {message} to silo {target} was not sent."));
            return;
        }

        if (LocalSilo is null)
        {
            ReportSendFailed(target, message, new SiloUnavailableException($"This silo has no identity yet; {message} to silo {target} was not sent."));
            return;
        }

        if (_peers.TryGetValue(target, out var peer) && peer.Connection is { } connection && connection.TryEnqueue(message))
        {
            return;
        }

        SendSlow(target, message);
    }

    public void OnSiloDead(SiloAddress silo)
    {
        ArgumentNullException.ThrowIfNull(silo);
        _dead[silo] = 0;
        if (!_peers.TryRemove(silo, out var peer))
        {
            return;
        }

        List<SiloMessage> pending;
        SiloConnection[] connections;
        lock (peer)
        {
            peer.Dead = true;
            pending = [.. peer.Pending];
            peer.Pending.Clear();
            connections = [.. peer.Connections];
            peer.Connection = null;
        }

        NetworkingLog.SiloDead(_logger, silo.ToString(), pending.Count, connections.Length);
        foreach (var message in pending)
        {
            ReportSendFailed(silo, message, new SiloUnavailableException($"Silo {silo} is dead; {message} was not sent."));
        }

        foreach (var connection in connections)
        {
            connection.Abort($"silo {silo} was declared dead", reset: false);
        }

        // Connections still in their handshake (not yet registered) are refused at registration.
    }

    public async Task AbortAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        _shutdown.Cancel();
        _pingTimer?.Dispose();
        foreach (var connection in _connections.Keys)
        {
            connection.Abort("the local silo was killed", reset: true);
        }

        await StopServerAsync(graceful: false).ConfigureAwait(false);
        await WaitForConnectionsAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        NetworkingLog.Stopped(_logger, _endpoint, "aborted");
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0)
        {
            _pingTimer?.Dispose();

            // Queued messages are written, outputs complete, and each peer sees an orderly end of stream.
            foreach (var connection in _connections.Keys)
            {
                connection.CloseGracefully("the local silo is stopping");
            }

            await WaitForConnectionsAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            _shutdown.Cancel();
            foreach (var connection in _connections.Keys)
            {
                connection.Abort("the local silo stopped", reset: false);
            }

            await StopServerAsync(graceful: true).ConfigureAwait(false);
            await WaitForConnectionsAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            NetworkingLog.Stopped(_logger, _endpoint, "disposed");
        }

        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _dialFactory?.Dispose();
            _shutdown.Dispose();
        }
    }

    /// <summary>True when the silo was declared dead here or the handler says so.</summary>
    internal bool IsDead(SiloAddress silo) => _dead.ContainsKey(silo) || (_handler?.IsDead(silo) ?? false);

    /// <summary>Adds a connection whose handshake succeeded; false refuses it (dead peer, transport stopping).</summary>
    internal bool Register(SiloConnection connection)
    {
        var silo = connection.Peer!;
        if (Stopped || IsDead(silo))
        {
            return false;
        }

        var peer = _peers.GetOrAdd(silo, static s => new PeerState(s));
        List<SiloMessage>? overflow = null;
        lock (peer)
        {
            if (peer.Dead)
            {
                return false;
            }

            peer.Connections.Add(connection);
            if (peer.Connection is null || peer.Connection.IsClosing)
            {
                // Queue what waited for the dial before publishing the connection, so lock-free senders cannot overtake it.
                foreach (var message in peer.Pending)
                {
                    if (!connection.TryEnqueue(message))
                    {
                        (overflow ??= []).Add(message);
                    }
                }

                peer.Pending.Clear();
                peer.Connection = connection;
            }

            peer.Failures = 0;
            peer.RetryAtTicks = 0;
        }

        if (overflow is not null)
        {
            foreach (var message in overflow)
            {
                ReportSendFailed(silo, message, Overloaded(silo, message));
            }
        }

        return true;
    }

    /// <summary>Removes a closed connection and tells the handler.</summary>
    internal void Unregister(SiloConnection connection, string reason)
    {
        var silo = connection.Peer!;
        if (_peers.TryGetValue(silo, out var peer))
        {
            lock (peer)
            {
                peer.Connections.Remove(connection);
                if (peer.Connection == connection)
                {
                    peer.Connection = peer.Connections.FirstOrDefault(c => !c.IsClosing);
                }
            }
        }

        NetworkingLog.ConnectionClosed(_logger, silo.ToString(), reason);
        try
        {
            Handler.OnConnectionClosed(silo);
        }
        catch (Exception ex)
        {
            NetworkingLog.CallbackFailed(_logger, ex, silo.ToString());
        }
    }

    internal void ReportSendFailed(SiloAddress target, SiloMessage message, Exception exception)
    {
        Instruments?.SendFailures.Add(1);
        try
        {
            _handler?.OnSendFailed(target, message, exception);
        }
        catch (Exception ex)
        {
            NetworkingLog.CallbackFailed(_logger, ex, target.ToString());
        }
    }

    private static SiloUnavailableException Overloaded(SiloAddress target, SiloMessage message) =>
        new($"The queue to silo {target} is full (overloaded); {message} was not sent.");

    private void SendSlow(SiloAddress target, SiloMessage message)
    {
        if (IsDead(target))
        {
            ReportSendFailed(target, message, new SiloUnavailableException($"Silo {target} is dead; {message} was not sent."));
            return;
        }

        var peer = _peers.GetOrAdd(target, static s => new PeerState(s));
        Exception? failure = null;
        bool dial = false;
        lock (peer)
        {
            if (peer.Dead)
            {
                failure = new SiloUnavailableException($"Silo {target} is dead; {message} was not sent.");
            }
            else if (peer.Connection is { IsClosing: false } connection)
            {
                if (!connection.TryEnqueue(message))
                {
                    failure = connection.IsClosing ? null : Overloaded(target, message);
                    if (failure is null)
                    {
                        // It closed meanwhile: wait for a new connection below.
                        peer.Connection = null;
                    }
                }
                else
                {
                    return;
                }
            }

            if (failure is null && peer.Connection is null or { IsClosing: true })
            {
                long now = Environment.TickCount64;
                if (!peer.Dialing && now < peer.RetryAtTicks)
                {
                    failure = new SiloUnavailableException(
                        $"Silo {target} could not be reached recently; the next attempt is in {peer.RetryAtTicks - now} ms. {message} was not sent.");
                }
                else if (peer.Pending.Count >= Options.MaxQueuedPerPeer)
                {
                    failure = Overloaded(target, message);
                }
                else
                {
                    peer.Pending.Add(message);
                    if (!peer.Dialing)
                    {
                        peer.Dialing = true;
                        dial = true;
                    }
                }
            }
        }

        if (failure is not null)
        {
            ReportSendFailed(target, message, failure);
        }
        else if (dial)
        {
            _ = Task.Run(() => DialAsync(peer));
        }
    }

    private async Task DialAsync(PeerState peer)
    {
        var target = peer.Silo;
        Exception? error = null;
        try
        {
            var connection = await ConnectAsync(target).ConfigureAwait(false);
            await connection.Established.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            error = ex;
        }

        List<SiloMessage>? failed = null;
        long delayMs = 0;
        lock (peer)
        {
            peer.Dialing = false;
            if (error is not null && (peer.Connection is null || peer.Connection.IsClosing))
            {
                failed = [.. peer.Pending];
                peer.Pending.Clear();
                peer.Failures++;
                double baseMs = Math.Min(
                    Options.MaxRetryDelay.TotalMilliseconds,
                    Options.RetryDelay.TotalMilliseconds * Math.Pow(2, Math.Min(peer.Failures - 1, 16)));
                delayMs = (long)(baseMs * (0.8 + (0.4 * Random.Shared.NextDouble())));
                peer.RetryAtTicks = Environment.TickCount64 + delayMs;
            }
        }

        if (failed is not null)
        {
            string reason = error is SiloUnavailableException ? error.Message : $"{error!.GetType().Name}: {error.Message}";
            NetworkingLog.DialFailed(_logger, target.ToString(), failed.Count, delayMs, reason);
            foreach (var message in failed)
            {
                ReportSendFailed(target, message, new SiloUnavailableException(
                    $"Could not connect to silo {target} ({reason}); {message} was not sent.", error));
            }
        }
    }

    private async Task<SiloConnection> ConnectAsync(SiloAddress target)
    {
        if (IsDead(target))
        {
            throw new SiloUnavailableException($"Silo {target} is dead.");
        }

        var endPoint = ParseEndpoint(target.Endpoint);
        var socket = endPoint is IPEndPoint ip
            ? new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
            : new Socket(SocketType.Stream, ProtocolType.Tcp);
        ConnectionContext context;
        try
        {
            socket.NoDelay = true;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token);
            timeout.CancelAfter(Options.ConnectTimeout);
            try
            {
                await socket.ConnectAsync(endPoint, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!_shutdown.IsCancellationRequested)
            {
                throw new SiloUnavailableException($"Connecting to {target.Endpoint} timed out after {Options.ConnectTimeout.TotalMilliseconds} ms.");
            }

            context = _dialFactory!.Create(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var connection = new SiloConnection(this, context, dialer: true, expectedPeer: target, _connectionLogger);
        _ = Track(connection);
        return connection;
    }

    private Task OnAcceptedAsync(ConnectionContext context)
    {
        if (Stopped)
        {
            context.Abort();
            return Task.CompletedTask;
        }

        var connection = new SiloConnection(this, context, dialer: false, expectedPeer: null, _connectionLogger);
        return Track(connection);
    }

    private Task Track(SiloConnection connection)
    {
        var run = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _connections[connection] = run.Task;
        _ = RunTrackedAsync(connection, run);
        if (Stopped)
        {
            connection.Abort("the local silo is stopping", reset: false);
        }

        return run.Task;
    }

    private async Task RunTrackedAsync(SiloConnection connection, TaskCompletionSource run)
    {
        await Task.Yield();
        try
        {
            await connection.RunAsync().ConfigureAwait(false);
        }
        finally
        {
            _connections.TryRemove(connection, out _);
            run.TrySetResult();
        }
    }

    private void OnPingTimer()
    {
        long now = Environment.TickCount64;
        long intervalMs = (long)Options.PingInterval.TotalMilliseconds;
        foreach (var connection in _connections.Keys)
        {
            connection.CheckLiveness(now, intervalMs);
        }
    }

    private async Task StopServerAsync(bool graceful)
    {
        if (_server is null)
        {
            return;
        }

        using var cts = new CancellationTokenSource(graceful ? TimeSpan.FromSeconds(1) : TimeSpan.Zero);
        try
        {
            await _server.StopAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _server.Dispose();
    }

    private async Task WaitForConnectionsAsync(TimeSpan timeout)
    {
        var running = _connections.Values.ToArray();
        if (running.Length > 0)
        {
            await Task.WhenAll(running).WaitAsync(timeout).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private static EndPoint ParseEndpoint(string endpoint)
    {
        if (IPEndPoint.TryParse(endpoint, out var ip) && ip.Port != 0)
        {
            return ip;
        }

        int colon = endpoint.LastIndexOf(':');
        if (colon > 0 && int.TryParse(endpoint.AsSpan(colon + 1), out int port) && port is > 0 and <= 65535)
        {
            return new DnsEndPoint(endpoint[..colon], port);
        }

        throw new SiloUnavailableException($"Silo endpoint '{endpoint}' is not host:port.");
    }

    /// <summary>What the transport knows about one peer silo.</summary>
    private sealed class PeerState(SiloAddress silo)
    {
        public SiloAddress Silo { get; } = silo;

        /// <summary>The connection sends go to; any other registered connection still receives.</summary>
        public SiloConnection? Connection { get; set; }

        public List<SiloConnection> Connections { get; } = [];

        /// <summary>Messages waiting for the pending dial, in send order.</summary>
        public List<SiloMessage> Pending { get; } = [];

        /// <summary>True while the one dial shared by all senders runs.</summary>
        public bool Dialing { get; set; }

        public int Failures { get; set; }

        public long RetryAtTicks { get; set; }

        public bool Dead { get; set; }
    }

    /// <summary>Kestrel wants an HTTP application; the silo port runs only the connection delegate, so it is never called.</summary>
    private sealed class NoHttpApplication : IHttpApplication<object>
    {
        public object CreateContext(IFeatureCollection contextFeatures) => throw new NotSupportedException();

        public Task ProcessRequestAsync(object context) => throw new NotSupportedException();

        public void DisposeContext(object context, Exception? exception)
        {
        }
    }

    private sealed class EmptyServiceProvider : IServiceProvider
    {
        public static readonly EmptyServiceProvider Instance = new();

        public object? GetService(Type serviceType) => null;
    }
}
