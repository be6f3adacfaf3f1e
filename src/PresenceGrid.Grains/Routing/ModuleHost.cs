using Microsoft.Extensions.Logging;
using PresenceGrid.Matrix;

namespace PresenceGrid.Routing;

/// <summary>
/// What every <see cref="ModuleApi"/> instance shares: the operations seam, the local server names, logging, the clock, the HTTP
/// client and the modules' background calls, which stop when the host is disposed (at silo shutdown).
/// </summary>
internal sealed class ModuleHost : IDisposable
{
    private readonly HashSet<ServerName> _localServerNameSet;
    private readonly HttpMessageHandler? _httpHandler;
    private readonly Lazy<HttpClient> _httpClient;
    private readonly CancellationTokenSource _stopping = new();
    private readonly HashSet<ModuleBackgroundCall> _calls = [];
    private readonly Lock _callsLock = new();
    private bool _disposed;

    public ModuleHost(
        IPresenceModuleOperations operations,
        IEnumerable<ServerName> localServerNames,
        ILoggerFactory loggerFactory,
        TimeProvider timeProvider,
        HttpMessageHandler? httpHandler = null)
    {
        ArgumentNullException.ThrowIfNull(operations);
        ArgumentNullException.ThrowIfNull(localServerNames);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        ArgumentNullException.ThrowIfNull(timeProvider);
        Operations = operations;
        var names = localServerNames.Distinct().ToArray();
        if (names.Length == 0)
        {
            throw new ArgumentException("At least one local server name is required.", nameof(localServerNames));
        }

        LocalServerNames = Array.AsReadOnly(names);
        _localServerNameSet = [.. names];
        LoggerFactory = loggerFactory;
        TimeProvider = timeProvider;
        _httpHandler = httpHandler;
        _httpClient = new Lazy<HttpClient>(CreateHttpClient, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public IPresenceModuleOperations Operations { get; }

    public IReadOnlyCollection<ServerName> LocalServerNames { get; }

    public ILoggerFactory LoggerFactory { get; }

    public TimeProvider TimeProvider { get; }

    /// <summary>One client for every module (connections pooled and recycled every 2 minutes); created on first use.</summary>
    public HttpClient HttpClient
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _httpClient.Value;
        }
    }

    /// <summary>Cancelled when the host is disposed; passed to the modules' background calls.</summary>
    public CancellationToken Stopping => _stopping.Token;

    public bool IsMine(UserId userId) => _localServerNameSet.Contains(userId.Server);

    /// <summary>Starts a background call for <paramref name="module"/>: once after <paramref name="dueTime"/>, then every <paramref name="period"/> if given.</summary>
    public IDisposable StartBackgroundCall(ModuleIdentity module, Func<CancellationToken, Task> callback, TimeSpan dueTime, TimeSpan? period)
    {
        var call = new ModuleBackgroundCall(this, module, callback, period, LoggerFactory.CreateLogger<ModuleBackgroundCall>());
        lock (_callsLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _calls.Add(call);
        }

        call.Start(dueTime);
        return call;
    }

    internal void Forget(ModuleBackgroundCall call)
    {
        lock (_callsLock)
        {
            _calls.Remove(call);
        }
    }

    /// <summary>Stops every background call (a call that is running gets its token cancelled) and disposes the HTTP client.</summary>
    public void Dispose()
    {
        ModuleBackgroundCall[] calls;
        lock (_callsLock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            calls = [.. _calls];
            _calls.Clear();
        }

        _stopping.Cancel();
        foreach (var call in calls)
        {
            call.Dispose();
        }

        if (_httpClient.IsValueCreated)
        {
            _httpClient.Value.Dispose();
        }

        // _stopping is cancelled, not disposed: a call already past its disposed check may still read the token.
    }

    private HttpClient CreateHttpClient()
    {
        var handler = _httpHandler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) };
        return new HttpClient(handler, disposeHandler: _httpHandler is null);
    }
}
