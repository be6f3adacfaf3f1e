using System.Collections.Concurrent;
using System.Text.Json;
using PresenceGrid.Runtime.Catalog;
using PresenceGrid.Runtime.GrainDirectory;
using PresenceGrid.Runtime.Messaging;
using PresenceGrid.Runtime.Networking;

namespace PresenceGrid.Runtime.Membership;

/// <summary>A silo's cluster parts: membership agent, transport, message center and directory cache.</summary>
internal sealed class ClusterServices : IAsyncDisposable
{
    private readonly SiloRuntime _runtime;
    private readonly ClusterSiloDetails _details;
    private int _aborted;

    public ClusterServices(SiloRuntime runtime, ClusterSiloDetails details, IMembershipTable table, ISiloTransport transport, ClusterOptions options, JsonSerializerOptions json)
    {
        _runtime = runtime;
        _details = details;
        Options = options;
        Transport = transport;
        Agent = new MembershipAgent(table, options, runtime.TimeProvider, runtime.Logger);
        Messages = new MessageCenter(runtime, transport, Agent, json);
        Agent.ViewChanged += OnViewChanged;
        Agent.DeclaredDead += OnDeclaredDead;
        Agent.Polled += Messages.SweepCompleted;
        runtime.Cluster = this;
    }

    /// <summary>Raised after every membership view change (on a pool thread).</summary>
    public event Action<ClusterView>? ViewChanged;

    /// <summary>Raised when the cluster declared this silo dead: the host must stop.</summary>
    public event Action? DeclaredDead;

    public ClusterOptions Options { get; }

    public MembershipAgent Agent { get; }

    public MessageCenter Messages { get; }

    public ISiloTransport Transport { get; }

    /// <summary>Where grains that lost an activation race (or forwarded) live: checked before placement.</summary>
    public ConcurrentDictionary<GrainId, GrainAddress> DirectoryCache { get; } = new();

    public SiloAddress Local => Agent.Local ?? throw new InvalidOperationException("The silo has not joined the cluster yet.");

    public ClusterView View => Agent.View;

    /// <summary>Starts the transport, joins membership and becomes active.</summary>
    public async Task StartAsync(string siloName, CancellationToken cancellationToken)
    {
        string endpoint = await Transport.StartAsync(Messages, cancellationToken);
        SiloAddress local = await Agent.JoinAsync(endpoint, siloName, async (address, view) =>
        {
            _details.SiloAddress = address;
            Transport.SetLocalSilo(address);
            await CheckConnectivityAsync(address, view, cancellationToken);
        }, cancellationToken);
        _details.SiloAddress = local;
    }

    /// <summary>
    /// Orleans' join check: every active silo must answer a ping (which needs the same cluster id and
    /// secret) before this one turns active. A silo that does not answer may be dead but not yet
    /// declared so: it is retried until it answers or the table says it is dead, for at most twice
    /// the lease. A peer that refuses the handshake (another cluster id or secret) fails the join at once.
    /// </summary>
    private async Task CheckConnectivityAsync(SiloAddress local, ClusterView view, CancellationToken cancellationToken)
    {
        TimeProvider time = _runtime.TimeProvider;
        long deadline = time.GetTimestamp() + (long)((Options.LeaseTime * 2).TotalSeconds * time.TimestampFrequency);
        List<SiloAddress> pending = [.. view.Active.Where(peer => peer != local)];
        while (pending.Count > 0)
        {
            (SiloAddress Peer, Exception? Error)[] results = await Task.WhenAll(pending.Select(async peer =>
            {
                try
                {
                    await Messages.PingAsync(peer, TimeSpan.FromSeconds(2), cancellationToken);
                    return (peer, (Exception?)null);
                }
                catch (SiloUnavailableException exception)
                {
                    return (peer, exception);
                }
            }));
            Exception? failure = results.FirstOrDefault(r => r.Error is not null).Error;
            if (failure is null)
            {
                return;
            }

            if (results.FirstOrDefault(r => SiloAuthenticationException.IsCauseOf(r.Error)).Error is { } refused)
            {
                // The peer is alive and answered: it is another cluster, or the secrets differ. Waiting cannot help.
                throw refused;
            }

            MembershipView fresh = await Agent.Table.ReadAsync(cancellationToken);
            pending = [.. results.Where(r => r.Error is not null && fresh.StatusOf(r.Peer) is SiloStatus.Active or SiloStatus.Joining).Select(r => r.Peer)];
            if (pending.Count > 0 && time.GetTimestamp() > deadline)
            {
                throw failure;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), time, cancellationToken);
        }
    }

    /// <summary>Where a call to <paramref name="grainId"/> goes when no local activation exists: null for this silo.</summary>
    public SiloAddress? RemoteOwner(GrainId grainId, bool usePlacement)
    {
        ClusterView view = Agent.View;
        SiloAddress local = Local;
        if (DirectoryCache.TryGetValue(grainId, out GrainAddress? known))
        {
            if (known.Silo != local && !view.IsDead(known.Silo))
            {
                return known.Silo;
            }

            DirectoryCache.TryRemove(new KeyValuePair<GrainId, GrainAddress>(grainId, known));
        }

        if (!usePlacement)
        {
            // The sender placed it here (or its activation here ended): activate here and let the directory arbitrate.
            return null;
        }

        SiloAddress? owner = view.Owner(grainId);
        return owner is null || owner == local ? null : owner;
    }

    /// <summary>The silo stops serving: no more lease, no more connections (a kill, or a self-kill after being declared dead).</summary>
    public async Task AbortAsync()
    {
        if (Interlocked.Exchange(ref _aborted, 1) != 0)
        {
            return;
        }

        Agent.Abort();
        await Transport.AbortAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Agent.DisposeAsync();
        await Transport.DisposeAsync();
    }

    private void OnViewChanged(ClusterView view, IReadOnlyList<SiloAddress> dead)
    {
        foreach (SiloAddress silo in dead)
        {
            Transport.OnSiloDead(silo);
            Messages.FailPendingTo(silo, $"Silo {silo} was declared dead");
            foreach ((GrainId grainId, GrainAddress address) in DirectoryCache)
            {
                if (address.Silo == silo)
                {
                    DirectoryCache.TryRemove(new KeyValuePair<GrainId, GrainAddress>(grainId, address));
                }
            }
        }

        Messages.SweepCompleted();
        if (dead.Count > 0 && view.Active.Length > 0 && view.Active[0] == Agent.Local)
        {
            // One silo (the first active one) reclaims the dead silos' directory entries; the rest
            // would find nothing left (the sweep is idempotent) and re-activations take over lazily anyway.
            _ = SweepDirectoryAsync();
        }

        ViewChanged?.Invoke(view);
    }

    private async Task SweepDirectoryAsync()
    {
        try
        {
            int removed = await _runtime.Directory.RemoveDeadSiloEntriesAsync(CancellationToken.None);
            ClusterLog.DirectorySwept(_runtime.Logger, removed);
        }
        catch (Exception exception)
        {
            ClusterLog.TableFailed(_runtime.Logger, exception);
        }
    }

    private void OnDeclaredDead()
    {
        _runtime.MarkStopping();
        _ = AbortAsync();
        DeclaredDead?.Invoke();
    }
}

/// <summary>A cluster silo's identity: its address is known once it joined membership.</summary>
internal sealed class ClusterSiloDetails(string name) : ILocalSiloDetails
{
    private SiloAddress _address = new("unjoined:" + name, 0);

    public SiloAddress SiloAddress
    {
        get => Volatile.Read(ref _address);
        set => Volatile.Write(ref _address, value);
    }

    public string Name { get; } = name;
}
