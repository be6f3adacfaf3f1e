using Microsoft.Extensions.Logging;

namespace PresenceGrid.Routing;

/// <summary>
/// A module's timer (Synapse <c>looping_background_call</c> / <c>delayed_background_call</c>) on the host's <see cref="TimeProvider"/>:
/// runs the callback once when due, then, when looping, again one period after each run finished (runs never overlap). A callback
/// that throws is logged and the loop goes on. Disposing stops it; the host disposes every call when it stops.
/// </summary>
internal sealed class ModuleBackgroundCall : IDisposable
{
    private readonly ModuleHost _host;
    private readonly ModuleIdentity _module;
    private readonly Func<CancellationToken, Task> _callback;
    private readonly TimeSpan? _period;
    private readonly ILogger _logger;
    private readonly ITimer _timer;
    private volatile bool _disposed;

    public ModuleBackgroundCall(ModuleHost host, ModuleIdentity module, Func<CancellationToken, Task> callback, TimeSpan? period, ILogger logger)
    {
        _host = host;
        _module = module;
        _callback = callback;
        _period = period;
        _logger = logger;
        _timer = host.TimeProvider.CreateTimer(static state => _ = ((ModuleBackgroundCall)state!).RunAsync(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public void Start(TimeSpan dueTime) => _timer.Change(dueTime, Timeout.InfiniteTimeSpan);

    public void Dispose()
    {
        _disposed = true;
        _timer.Dispose();
        _host.Forget(this);
    }

    private async Task RunAsync()
    {
        if (_disposed)
        {
            return;
        }

        CancellationToken stopping = _host.Stopping;
        try
        {
            await _callback(stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return;
        }
        catch (Exception exception)
        {
            RoutingLog.BackgroundCallFailed(_logger, _module.Name, _module.Location, exception);
        }

        if (_period is { } period && !_disposed)
        {
            _timer.Change(period, Timeout.InfiniteTimeSpan);
        }
        else if (_period is null)
        {
            Dispose();
        }
    }
}
