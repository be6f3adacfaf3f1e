using System.Collections.Concurrent;
using System.Threading.Channels;
using PresenceGrid.Runtime.GrainDirectory;

namespace PresenceGrid.Runtime.Networking;

/// <summary>
/// The "network" of an in-process test cluster: silos reach each other by endpoint name, messages
/// keep their order per sender and receiver, and a killed silo's endpoint stops answering (sends to
/// it fail, its peers see their connection close). Like Orleans' TestingHost in-memory transport.
/// </summary>
public sealed class InMemoryTransportHub
{
    private readonly ConcurrentDictionary<string, InMemorySiloTransport> _endpoints = new(StringComparer.Ordinal);
    private int _next;

    internal string Register(InMemorySiloTransport transport)
    {
        string endpoint = $"inproc:{Interlocked.Increment(ref _next)}";
        _endpoints[endpoint] = transport;
        return endpoint;
    }

    internal void Unregister(string endpoint) => _endpoints.TryRemove(endpoint, out _);

    internal InMemorySiloTransport? Find(string endpoint) => _endpoints.GetValueOrDefault(endpoint);

    internal IEnumerable<InMemorySiloTransport> All => _endpoints.Values;
}

/// <summary>A silo's end of the <see cref="InMemoryTransportHub"/>.</summary>
internal sealed class InMemorySiloTransport : ISiloTransport
{
    private readonly InMemoryTransportHub _hub;
    private readonly Channel<(SiloAddress Sender, SiloMessage Message)> _inbound =
        Channel.CreateUnbounded<(SiloAddress, SiloMessage)>(new UnboundedChannelOptions { SingleReader = true });

    private readonly ConcurrentDictionary<SiloAddress, byte> _peers = new();
    private readonly ConcurrentDictionary<SiloAddress, byte> _dead = new();
    private ISiloMessageHandler? _handler;
    private SiloAddress? _local;
    private string? _endpoint;
    private Task? _loop;
    private volatile bool _closed;

    public InMemorySiloTransport(InMemoryTransportHub hub) => _hub = hub;

    public Task<string> StartAsync(ISiloMessageHandler handler, CancellationToken cancellationToken)
    {
        _handler = handler;
        _endpoint = _hub.Register(this);
        _loop = Task.Run(ReadLoopAsync, CancellationToken.None);
        return Task.FromResult(_endpoint);
    }

    public void SetLocalSilo(SiloAddress local) => _local = local;

    public void Send(SiloAddress target, SiloMessage message)
    {
        InMemorySiloTransport? peer = _closed || _dead.ContainsKey(target) ? null : _hub.Find(target.Endpoint);
        if (peer is null || peer._closed || peer._local != target || _local is null)
        {
            var failure = new SiloUnavailableException($"Silo {target} is unreachable.");
            ThreadPool.QueueUserWorkItem(static s => s.Handler.OnSendFailed(s.Target, s.Message, s.Failure), (Handler: _handler!, Target: target, Message: message, Failure: failure), preferLocal: false);
            return;
        }

        _peers.TryAdd(target, 0);
        peer._peers.TryAdd(_local, 0);
        peer._inbound.Writer.TryWrite((_local, message));
    }

    public void OnSiloDead(SiloAddress silo)
    {
        _dead.TryAdd(silo, 0);
        _peers.TryRemove(silo, out _);
    }

    public async Task AbortAsync()
    {
        if (_closed)
        {
            return;
        }

        _closed = true;
        if (_endpoint is not null)
        {
            _hub.Unregister(_endpoint);
        }

        _inbound.Writer.TryComplete();
        if (_local is { } local)
        {
            foreach (SiloAddress peer in _peers.Keys)
            {
                if (_hub.Find(peer.Endpoint) is { } other && other._peers.TryRemove(local, out _))
                {
                    ThreadPool.QueueUserWorkItem(static s => s.Handler?.OnConnectionClosed(s.Local), (Handler: other._handler, Local: local), preferLocal: false);
                }
            }
        }

        if (_loop is not null)
        {
            await _loop;
        }
    }

    public ValueTask DisposeAsync() => new(AbortAsync());

    private async Task ReadLoopAsync()
    {
        ChannelReader<(SiloAddress Sender, SiloMessage Message)> reader = _inbound.Reader;
        while (await reader.WaitToReadAsync())
        {
            while (reader.TryRead(out (SiloAddress Sender, SiloMessage Message) item))
            {
                if (!_closed)
                {
                    _handler!.OnMessage(item.Sender, item.Message);
                }
            }
        }
    }
}
