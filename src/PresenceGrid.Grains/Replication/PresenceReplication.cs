using Microsoft.Extensions.Logging;
using PresenceGrid.Fanout;
using PresenceGrid.Grains;
using PresenceGrid.Hosting;
using PresenceGrid.Matrix;
using PresenceGrid.Persistence;

namespace PresenceGrid.Replication;

/// <summary>
/// Keeps every silo's presence view whole in a cluster, as Synapse's presence stream feeds every worker: each fan-out
/// batch of notified changes goes to every other active silo as one one-way Orleans message per silo (to its
/// <see cref="IPresenceReplicaService"/>), where the local fan-out delivers it to the inboxes of users syncing there
/// (coalesced per recipient); room membership changes and full-presence markers travel the same way. A starting silo
/// rebuilds room memberships and stored presence from grain storage (<see cref="IGrainStateScan"/>).
/// </summary>
internal sealed partial class PresenceReplication
{
    /// <summary>When the second rebuild runs: after every peer's membership view has caught up with this silo.</summary>
    public static readonly TimeSpan SecondScanDelay = TimeSpan.FromSeconds(3);

    private readonly IClusterMembershipService _membership;
    private readonly ILocalSiloDetails _self;
    private readonly PresenceReplicaClient _replicas;
    private readonly PresenceFanout _fanout;
    private readonly RoomMembershipIndex _rooms;
    private readonly PresenceMetrics _metrics;
    private readonly IGrainStateScan? _scan;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();

    // (room, user) pairs replication changed since this silo started: newer than anything in storage.
    private readonly HashSet<(string Room, string User)> _touched = [];
    private long _batchesSent;
    private long _messagesSent;
    private long _statesReceived;

    public PresenceReplication(
        IClusterMembershipService membership,
        ILocalSiloDetails self,
        PresenceReplicaClient replicas,
        PresenceFanout fanout,
        RoomMembershipIndex rooms,
        PresenceMetrics metrics,
        TimeProvider time,
        ILogger<PresenceReplication> logger,
        IGrainStateScan? scan = null)
    {
        _membership = membership;
        _self = self;
        _replicas = replicas;
        _fanout = fanout;
        _rooms = rooms;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _scan = scan;
        fanout.Replication = this;
    }

    /// <summary>Fan-out batches sent to peers.</summary>
    public long BatchesSent => Interlocked.Read(ref _batchesSent);

    /// <summary>Messages sent to peers (one per peer per batch).</summary>
    public long MessagesSent => Interlocked.Read(ref _messagesSent);

    /// <summary>States received from peers.</summary>
    public long StatesReceived => Interlocked.Read(ref _statesReceived);

    /// <summary>The other active silos of this silo's membership view.</summary>
    private List<SiloAddress> Peers()
    {
        var peers = new List<SiloAddress>();
        foreach (ClusterMember member in _membership.CurrentSnapshot.Members.Values)
        {
            if (member.Status == SiloStatus.Active && !member.SiloAddress.Equals(_self.SiloAddress))
            {
                peers.Add(member.SiloAddress);
            }
        }

        return peers;
    }

    /// <summary>Sends one batch of locally notified states to every peer (one message per peer).</summary>
    public void Replicate(List<UserPresenceState> states)
    {
        List<SiloAddress> peers = Peers();
        if (states.Count == 0 || peers.Count == 0)
        {
            return;
        }

        UserPresenceState[] batch = [.. states];
        foreach (SiloAddress peer in peers)
        {
            Send(_replicas.On(peer).ApplyStates(batch));
        }

        Interlocked.Increment(ref _batchesSent);
        Interlocked.Add(ref _messagesSent, peers.Count);
        _metrics.Replicated(states.Count, peers.Count);
    }

    /// <summary>Tells every peer of a joined-membership change made by a room grain here.</summary>
    public void ReplicateMembership(string roomId, UserId userId, bool joined)
    {
        foreach (SiloAddress peer in Peers())
        {
            Send(_replicas.On(peer).ApplyMembership(roomId, userId, joined));
        }
    }

    /// <summary>Tells every peer to send these users a full snapshot on their next sync.</summary>
    public void ReplicateFullPresence(IReadOnlyCollection<UserId> users)
    {
        if (users.Count == 0)
        {
            return;
        }

        UserId[] batch = [.. users];
        foreach (SiloAddress peer in Peers())
        {
            Send(_replicas.On(peer).ApplyFullPresence(batch));
        }
    }

    /// <summary>A one-way send: it completes at once; a failure to enqueue is logged, never thrown into the fan-out.</summary>
    private void Send(Task sending)
    {
        if (!sending.IsCompletedSuccessfully)
        {
            _ = sending.ContinueWith(
                static (t, state) => LogSendFailed((ILogger)state!, t.Exception!.GetBaseException()),
                _logger,
                CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    public void OnStates(UserPresenceState[] states)
    {
        foreach (UserPresenceState state in states)
        {
            _fanout.Publish(state, PublishKind.Replica);
        }

        Interlocked.Add(ref _statesReceived, states.Length);
    }

    public void OnMembership(string roomId, UserId userId, bool joined)
    {
        lock (_touched)
        {
            _touched.Add((roomId, userId.ToString()));
        }

        _fanout.ApplyMembership(roomId, userId, joined);
    }

    public void OnFullPresence(UserId[] users)
    {
        foreach (UserId user in users)
        {
            _fanout.MarkFullPresence(user);
        }
    }

    /// <summary>
    /// Rebuilds joined memberships and stored presence from grain storage (a silo joining a running cluster, or a
    /// cluster restarting). What replication already delivered wins over storage.
    /// </summary>
    public async Task BootstrapAsync(CancellationToken cancellationToken)
    {
        if (_scan is null)
        {
            return;
        }

        IReadOnlyList<KeyValuePair<string, RoomRecord>> rooms = await _scan.ReadAllAsync<RoomRecord>(RoomGrain.StateName, RoomGrain.GrainType, cancellationToken);
        int memberships = 0;
        foreach ((string room, RoomRecord record) in rooms)
        {
            foreach ((string user, string membership) in record.Members)
            {
                bool touched;
                lock (_touched)
                {
                    touched = _touched.Contains((room, user));
                }

                if (!touched && membership == "join" && UserId.TryParse(user, out UserId? userId))
                {
                    _rooms.SetJoined(room, userId, joined: true);
                    memberships++;
                }
            }
        }

        IReadOnlyList<KeyValuePair<string, PresenceRecord>> states =
            await _scan.ReadAllAsync<PresenceRecord>(UserPresenceGrain.StateName, UserPresenceGrain.GrainType, cancellationToken);
        int restored = 0;
        foreach ((string user, PresenceRecord record) in states)
        {
            if (UserId.TryParse(user, out UserId? userId) && record.ToState(userId) is { } state && _fanout.RestoreState(state))
            {
                restored++;
            }
        }

        LogBootstrapped(_logger, rooms.Count, memberships, restored);
    }

    /// <summary>
    /// Peers start replicating to this silo once their view shows it; what they stored before that (and after the
    /// first rebuild) is picked up by a second rebuild once every view has caught up.
    /// </summary>
    public void ScheduleSecondScan()
    {
        if (_scan is null)
        {
            return;
        }

        CancellationToken stopping = _stopping.Token;
        _ = Task.Run(
            async () =>
            {
                try
                {
                    await Task.Delay(SecondScanDelay, _time, stopping);
                    await BootstrapAsync(stopping);
                }
                catch (OperationCanceledException)
                {
                }
                catch (Exception exception)
                {
                    LogScanFailed(_logger, exception);
                }
            },
            CancellationToken.None);
    }

    public void StopScans() => _stopping.Cancel();

    [LoggerMessage(EventId = 3200, EventName = "PresenceBootstrapped", Level = LogLevel.Information,
        Message = "Presence view rebuilt from storage: {RoomCount} rooms, {MembershipCount} joined memberships, {StateCount} stored states")]
    private static partial void LogBootstrapped(ILogger logger, int roomCount, int membershipCount, int stateCount);

    [LoggerMessage(EventId = 3201, EventName = "PresenceRescanFailed", Level = LogLevel.Warning,
        Message = "The second rebuild of the presence view from storage failed; memberships stored while this silo joined may be missing until they change")]
    private static partial void LogScanFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3204, EventName = "ReplicationSendFailed", Level = LogLevel.Warning,
        Message = "A replication message to a peer silo could not be sent; that silo's view misses it until the user's next change")]
    private static partial void LogSendFailed(ILogger logger, Exception exception);
}
