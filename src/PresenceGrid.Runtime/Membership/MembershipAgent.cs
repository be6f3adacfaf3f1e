using Microsoft.Extensions.Logging;
using PresenceGrid.Runtime.GrainDirectory;
using PresenceGrid.Placement;

namespace PresenceGrid.Runtime.Membership;

/// <summary>The active silos of one membership version, with their placement hashes.</summary>
internal sealed class ClusterView
{
    public ClusterView(MembershipView membership)
    {
        Membership = membership;
        Active = [.. membership.ActiveInPlacementOrder.Select(s => s.Address)];
        Hashes = [.. Active.Select(a => RendezvousHashing.HashSilo(a.Endpoint, a.Generation))];
    }

    public static ClusterView Empty { get; } = new(MembershipView.Empty);

    public MembershipView Membership { get; }

    public SiloAddress[] Active { get; }

    public ulong[] Hashes { get; }

    public long Version => Membership.Version;

    /// <summary>The rendezvous owner of a grain among the active silos, or null when none is active.</summary>
    public SiloAddress? Owner(GrainId grainId)
    {
        int index = RendezvousHashing.PickIndex(RendezvousHashing.HashGrain(grainId.Type, grainId.Key), Hashes);
        return index < 0 ? null : Active[index];
    }

    public bool IsDead(SiloAddress silo) => Membership.StatusOf(silo) == SiloStatus.Dead;
}

/// <summary>
/// This silo's membership: joins the table, renews its lease (judged by the table's clock),
/// self-fences when it cannot, stops at once when it finds itself dead, declares lapsed peers
/// dead, and keeps the cached view fresh from notifications with polling as the fallback.
/// </summary>
internal sealed class MembershipAgent : IAsyncDisposable
{
    private readonly IMembershipTable _table;
    private readonly ClusterOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private ClusterView _view = ClusterView.Empty;
    private long _fenceAt = long.MaxValue;
    private bool _fenced;
    private int _frozen;
    private int _dead;
    private Task? _renewLoop;
    private Task? _watchLoop;

    public MembershipAgent(IMembershipTable table, ClusterOptions options, TimeProvider time, ILogger logger)
    {
        _table = table;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>Raised after the view changed, with the silos that turned dead in it.</summary>
    public event Action<ClusterView, IReadOnlyList<SiloAddress>>? ViewChanged;

    /// <summary>Raised after each poll of the table (every poll interval), for housekeeping.</summary>
    public event Action? Polled;

    /// <summary>Raised once when the table says this silo is dead: it must stop at once.</summary>
    public event Action? DeclaredDead;

    public SiloAddress? Local { get; private set; }

    public ClusterView View => Volatile.Read(ref _view);

    public IMembershipTable Table => _table;

    /// <summary>True when the lease may have lapsed: grain requests are refused until a renewal succeeds.</summary>
    public bool IsFenced => Volatile.Read(ref _dead) != 0 || _time.GetTimestamp() >= Volatile.Read(ref _fenceAt);

    public bool IsDeadSelf => Volatile.Read(ref _dead) != 0;

    /// <summary>Joins as <paramref name="endpoint"/>: a Joining row with a lease, then Active once the view is read.</summary>
    public async Task<SiloAddress> JoinAsync(string endpoint, string name, Func<SiloAddress, ClusterView, Task> onJoined, CancellationToken cancellationToken)
    {
        await _table.InitializeAsync(cancellationToken);
        long before = _time.GetTimestamp();
        SiloAddress local = await _table.JoinAsync(endpoint, name, _options.HttpEndpoint, _options.LeaseTime, cancellationToken);
        Local = local;
        SetLease(before, _options.LeaseTime);

        // The lease must be kept (and dead peers declared) while the join check runs.
        _renewLoop = Task.Run(RenewLoopAsync, CancellationToken.None);
        _watchLoop = Task.Run(WatchLoopAsync, CancellationToken.None);
        try
        {
            // Orleans' join check: every active silo must be reachable (and accept our secret) first.
            await onJoined(local, new ClusterView(await _table.ReadAsync(cancellationToken)));
        }
        catch
        {
            Abort();
            await _table.SetStatusAsync(local, SiloStatus.Dead, CancellationToken.None);
            throw;
        }

        _table.VersionHint += OnVersionHint;
        await _table.SetStatusAsync(local, SiloStatus.Active, cancellationToken);
        await RefreshAsync(cancellationToken);
        ClusterLog.Joined(_logger, name, local.ToString());
        return local;
    }

    /// <summary>Graceful leave, first step: Leaving (peers stop placing grains here).</summary>
    public async Task BeginLeaveAsync(CancellationToken cancellationToken)
    {
        if (Local is { } local && !IsDeadSelf)
        {
            await _table.SetStatusAsync(local, SiloStatus.Leaving, cancellationToken);
        }
    }

    /// <summary>Graceful leave, last step: Dead, and the loops stop.</summary>
    public async Task FinishLeaveAsync(CancellationToken cancellationToken)
    {
        Abort();
        if (Local is { } local && !IsDeadSelf)
        {
            await _table.SetStatusAsync(local, SiloStatus.Dead, cancellationToken);
            ClusterLog.Left(_logger, local.ToString());
        }
    }

    /// <summary>Stops every loop without telling the table (a kill: peers must detect it).</summary>
    public void Abort()
    {
        _table.VersionHint -= OnVersionHint;
        Cancel();
    }

    /// <summary>Pauses (true) or resumes lease renewal, to simulate a frozen process in tests.</summary>
    public void Freeze(bool frozen) => Volatile.Write(ref _frozen, frozen ? 1 : 0);

    /// <summary>Reads the table now and publishes the view if its version moved.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _refresh.WaitAsync(cancellationToken);
        try
        {
            MembershipView membership = await _table.ReadAsync(cancellationToken);
            ClusterView previous = View;
            if (membership.Version == previous.Version)
            {
                return;
            }

            var view = new ClusterView(membership);
            Volatile.Write(ref _view, view);
            var dead = membership.Silos
                .Where(s => s.Status == SiloStatus.Dead && previous.Membership.StatusOf(s.Address) != SiloStatus.Dead)
                .Select(s => s.Address)
                .ToList();
            ClusterLog.ViewChanged(_logger, membership.Version, view.Active.Length, string.Join(", ", view.Active.Select(a => a.ToString())));
            if (Local is { } local && membership.StatusOf(local) == SiloStatus.Dead)
            {
                OnSelfDead();
            }

            ViewChanged?.Invoke(view, dead);
        }
        finally
        {
            _refresh.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        Abort();
        foreach (Task? loop in new[] { _renewLoop, _watchLoop })
        {
            if (loop is not null)
            {
                try
                {
                    await loop;
                }
                catch (OperationCanceledException)
                {
                }
            }
        }

    }

    private void Cancel()
    {
        lock (_stop)
        {
            if (!_stop.IsCancellationRequested)
            {
                _stop.Cancel();
            }
        }
    }

    private void SetLease(long sentAt, TimeSpan remaining)
    {
        // Conservative: the lease counts from before the request was sent; only clock rates matter.
        long fenceAt = sentAt + (long)((remaining - _options.EffectiveFenceMargin).TotalSeconds * _time.TimestampFrequency);
        Volatile.Write(ref _fenceAt, fenceAt);
        if (_fenced)
        {
            _fenced = false;
            ClusterLog.Unfenced(_logger);
        }
    }

    private async Task RenewLoopAsync()
    {
        CancellationToken token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.EffectiveRenewInterval, _time, token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (Volatile.Read(ref _frozen) != 0 || Local is not { } local)
            {
                continue;
            }

            long before = _time.GetTimestamp();
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
                timeout.CancelAfter(_options.EffectiveRenewInterval);
                TimeSpan? remaining = await _table.RenewLeaseAsync(local, _options.LeaseTime, timeout.Token);
                if (remaining is null)
                {
                    OnSelfDead();
                    return;
                }

                SetLease(before, remaining.Value);
            }
            catch (Exception exception) when (!token.IsCancellationRequested)
            {
                long fenceIn = (long)((Volatile.Read(ref _fenceAt) - _time.GetTimestamp()) * 1000.0 / _time.TimestampFrequency);
                ClusterLog.RenewFailed(_logger, exception, Math.Max(0, fenceIn));
                if (IsFenced && !_fenced)
                {
                    _fenced = true;
                    ClusterLog.Fenced(_logger);
                }
            }
        }
    }

    private async Task WatchLoopAsync()
    {
        CancellationToken token = _stop.Token;
        TimeSpan interval = _options.EffectivePollInterval;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, _time, token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (Volatile.Read(ref _frozen) != 0)
            {
                continue;
            }

            try
            {
                IReadOnlyList<SiloAddress> declared = await _table.DeclareDeadAsync(_options.EffectiveDeadGrace, token);
                foreach (SiloAddress silo in declared)
                {
                    ClusterLog.DeclaredDead(_logger, silo.ToString());
                }

                long version = await _table.ReadVersionAsync(token);
                if (version != View.Version)
                {
                    await RefreshAsync(token);
                }

                Polled?.Invoke();
            }
            catch (Exception exception) when (!token.IsCancellationRequested)
            {
                ClusterLog.TableFailed(_logger, exception);
            }
        }
    }

    private void OnVersionHint(long version)
    {
        if (version != View.Version && !_stop.IsCancellationRequested && Volatile.Read(ref _frozen) == 0)
        {
            _ = Task.Run(async () =>
            {
                try
                {
                    await RefreshAsync(_stop.Token);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    ClusterLog.TableFailed(_logger, exception);
                }
                catch (OperationCanceledException)
                {
                }
            });
        }
    }

    private void OnSelfDead()
    {
        if (Interlocked.Exchange(ref _dead, 1) != 0)
        {
            return;
        }

        ClusterLog.SelfDead(_logger, Local?.ToString() ?? "?");
        Cancel();
        DeclaredDead?.Invoke();
    }
}
