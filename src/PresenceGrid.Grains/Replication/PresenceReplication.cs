using Microsoft.Extensions.Logging;
using PresenceGrid.Fanout;
using PresenceGrid.Grains;
using PresenceGrid.Hosting;
using PresenceGrid.Matrix;
using PresenceGrid.Persistence;

namespace PresenceGrid.Replication;

/// <summary>
/// Keeps every silo's presence view whole in a cluster, as Synapse's presence stream feeds every worker: the notified
/// states of each fan-out batch, joined-membership changes, invites and knocks and full-presence markers go to every
/// other active silo through one ordered stream per peer (a <see cref="ReplicaOutbox"/>: numbered batches of items, up
/// to <see cref="ReplicaOutbox.Window"/> awaited messages in flight per peer) to its <see cref="IPresenceReplicaService"/>,
/// where a <see cref="ReplicaSequencer"/> puts each sender's messages back in order and the local fan-out delivers them
/// to the inboxes of users syncing there (coalesced per recipient). A starting silo rebuilds room memberships and
/// stored presence from grain storage (<see cref="IGrainStateScan"/>).
/// </summary>
internal sealed partial class PresenceReplication
{
    /// <summary>When the second rebuild runs: after every peer's membership view has caught up with this silo.</summary>
    public static readonly TimeSpan SecondScanDelay = TimeSpan.FromSeconds(3);

    /// <summary>How long a stopping silo waits for its queued replication to leave.</summary>
    public static readonly TimeSpan StopFlushTimeout = TimeSpan.FromSeconds(2);

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
    private readonly ReplicaSequencer _sequencer;

    // (room, user) pairs replication changed since this silo started: newer than anything in storage.
    private readonly HashSet<(string Room, string User)> _touched = [];

    // One stream per active peer, for the membership version _outboxesVersion; replaced (under the lock) when it changes.
    private readonly Lock _outboxesLock = new();
    private Dictionary<SiloAddress, ReplicaOutbox> _outboxes = [];
    private long _outboxesVersion = long.MinValue;
    private volatile bool _stopped;
    private long _messagesSentByDroppedOutboxes;
    private long _itemsDroppedByDroppedOutboxes;
    private long _statesReceived;
    private long _sendersVersion = long.MinValue; // the membership version the sequencer last forgot departed senders at

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
        _sequencer = new ReplicaSequencer(Apply);
        fanout.Replication = this;
    }

    /// <summary>Messages peers have applied, over every stream this silo had.</summary>
    public long MessagesSent
    {
        get
        {
            lock (_outboxesLock)
            {
                return _messagesSentByDroppedOutboxes + _outboxes.Values.Sum(o => o.MessagesSent);
            }
        }
    }

    /// <summary>Items dropped (past a stream's bound, or queued for a peer that left), over every stream this silo had.</summary>
    public long ItemsDropped
    {
        get
        {
            lock (_outboxesLock)
            {
                return _itemsDroppedByDroppedOutboxes + _outboxes.Values.Sum(o => o.ItemsDropped);
            }
        }
    }

    /// <summary>States received from peers.</summary>
    public long StatesReceived => Interlocked.Read(ref _statesReceived);

    /// <summary>The peers' streams as this silo receives them.</summary>
    internal ReplicaSequencer Sequencer => _sequencer;

    /// <summary>The stream to each active peer of this silo's current membership view.</summary>
    public IReadOnlyDictionary<SiloAddress, ReplicaOutbox> Outboxes => CurrentOutboxes();

    /// <summary>
    /// The streams to the other active silos of this silo's membership view: a new peer gets a stream, a peer that left
    /// the active set has its stream dropped (its queued items counted in the drop metric).
    /// </summary>
    private Dictionary<SiloAddress, ReplicaOutbox> CurrentOutboxes()
    {
        ClusterMembershipSnapshot snapshot = _membership.CurrentSnapshot;
        lock (_outboxesLock)
        {
            if (_stopped || snapshot.Version.Value <= _outboxesVersion)
            {
                return _outboxes;
            }

            var current = new Dictionary<SiloAddress, ReplicaOutbox>();
            foreach (ClusterMember member in snapshot.Members.Values)
            {
                SiloAddress peer = member.SiloAddress;
                if (member.Status == SiloStatus.Active && !peer.Equals(_self.SiloAddress))
                {
                    current[peer] = _outboxes.GetValueOrDefault(peer) ?? NewOutbox(peer);
                }
            }

            foreach ((SiloAddress peer, ReplicaOutbox outbox) in _outboxes)
            {
                if (!current.ContainsKey(peer))
                {
                    Retire(outbox);
                }
            }

            _outboxes = current;
            _outboxesVersion = snapshot.Version.Value;
            return current;
        }
    }

    private ReplicaOutbox NewOutbox(SiloAddress peer)
    {
        IPresenceReplicaService replica = _replicas.On(peer);
        return new ReplicaOutbox(_self.SiloAddress, peer, replica.ApplyBatch, () => IsActive(peer), _metrics, _time, _logger);
    }

    private bool IsActive(SiloAddress peer) =>
        !_stopped && _membership.CurrentSnapshot.Members.TryGetValue(peer, out ClusterMember? member) && member.Status == SiloStatus.Active;

    /// <summary>Drops a stream and keeps its counts (under the lock).</summary>
    private void Retire(ReplicaOutbox outbox)
    {
        outbox.Drop();
        _messagesSentByDroppedOutboxes += outbox.MessagesSent;
        _itemsDroppedByDroppedOutboxes += outbox.ItemsDropped;
    }

    /// <summary>Queues items, in order, on every peer's stream.</summary>
    private static void Enqueue(Dictionary<SiloAddress, ReplicaOutbox> outboxes, IReadOnlyList<ReplicaItem> items)
    {
        foreach (ReplicaOutbox outbox in outboxes.Values)
        {
            outbox.Add(items);
        }
    }

    /// <summary>Whether this silo has a peer to replicate to (a lone silo builds no replica items).</summary>
    public bool HasPeers => CurrentOutboxes().Count > 0;

    /// <summary>Replicates one fan-out batch of locally notified states (<see cref="ReplicaItem.ForState"/> items) to every peer.</summary>
    public void Replicate(List<ReplicaItem> states)
    {
        Dictionary<SiloAddress, ReplicaOutbox> outboxes = CurrentOutboxes();
        if (states.Count > 0 && outboxes.Count > 0)
        {
            Enqueue(outboxes, states);
        }
    }

    /// <summary>Tells every peer of a joined-membership change made by a room grain here.</summary>
    public void ReplicateMembership(string roomId, UserId userId, bool joined) =>
        Enqueue(CurrentOutboxes(), [ReplicaItem.ForMembership(roomId, userId, joined)]);

    /// <summary>Tells every peer that a room grain here invited a user or took its knock: the room's members there see the user.</summary>
    public void ReplicateInviteOrKnock(string roomId, UserId userId) =>
        Enqueue(CurrentOutboxes(), [ReplicaItem.ForInviteOrKnock(roomId, userId)]);

    /// <summary>Tells every peer to send these users a full snapshot on their next sync.</summary>
    public void ReplicateFullPresence(IReadOnlyCollection<UserId> users)
    {
        Dictionary<SiloAddress, ReplicaOutbox> outboxes = CurrentOutboxes();
        if (users.Count > 0 && outboxes.Count > 0)
        {
            Enqueue(outboxes, [.. users.Select(ReplicaItem.ForFullPresence)]);
        }
    }

    /// <summary>
    /// Takes a peer's message: applied in its stream's order (<see cref="ReplicaSequencer"/>). A message from a silo that
    /// Orleans' membership here shows dead (or superseded by a newer generation) is ignored, and such senders' streams are
    /// forgotten whenever the membership changes.
    /// </summary>
    /// <returns>What was done with it.</returns>
    public ReplicaReceipt OnBatch(ReplicaBatch batch)
    {
        ClusterMembershipSnapshot snapshot = _membership.CurrentSnapshot;
        if (snapshot.Version.Value > Interlocked.Read(ref _sendersVersion))
        {
            _sequencer.Forget(sender => HasLeft(snapshot, sender));
            Interlocked.Exchange(ref _sendersVersion, snapshot.Version.Value);
        }

        return HasLeft(snapshot, batch.Sender) ? ReplicaReceipt.Superseded : _sequencer.Receive(batch);
    }

    /// <summary>
    /// Whether the membership shows <paramref name="silo"/> dead, or a newer generation of it. A silo it does not list
    /// has not left: it may be one that joined since this view was taken.
    /// </summary>
    private static bool HasLeft(ClusterMembershipSnapshot snapshot, SiloAddress silo) =>
        snapshot.Members.TryGetValue(silo, out ClusterMember? member)
            ? member.Status == SiloStatus.Dead
            : snapshot.Members.Keys.Any(known => known.IsSuccessorOf(silo));

    /// <summary>Applies one message of a peer's stream (the sequencer calls it in order).</summary>
    private void Apply(ReplicaItem[] items)
    {
        int states = 0;
        foreach (ReplicaItem item in items)
        {
            switch (item.Kind)
            {
                case ReplicaItemKind.State:
                    _fanout.PublishReplica(item.State!, item.Mirrored);
                    states++;
                    break;
                case ReplicaItemKind.Joined or ReplicaItemKind.Left:
                    OnMembership(item.RoomId!, item.User, item.Kind == ReplicaItemKind.Joined);
                    break;
                case ReplicaItemKind.InvitedOrKnocked:
                    _fanout.ApplyInviteOrKnock(item.RoomId!, item.User);
                    break;
                case ReplicaItemKind.FullPresence:
                    _fanout.MarkFullPresence(item.User);
                    break;
                case ReplicaItemKind.HandedBack:
                    _fanout.PublishReplicaHandedBack(item.State!);
                    break;
            }
        }

        Interlocked.Add(ref _statesReceived, states);
    }

    private void OnMembership(string roomId, UserId userId, bool joined)
    {
        lock (_touched)
        {
            _touched.Add((roomId, userId.ToString()));
        }

        _fanout.ApplyMembership(roomId, userId, joined);
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
            if (UserId.TryParse(user, out UserId? userId) && record.ToState(userId) is { } state && _fanout.RestoreState(state, record.Mirrored))
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

    /// <summary>
    /// The silo stops: no more rebuilds, what is queued for peers gets up to <see cref="StopFlushTimeout"/> to leave
    /// (changes made just before a graceful stop still reach them), then the streams are dropped.
    /// </summary>
    /// <returns>A task.</returns>
    public async Task StopAsync()
    {
        _stopping.Cancel();
        ReplicaOutbox[] outboxes;
        lock (_outboxesLock)
        {
            _stopped = true;
            outboxes = [.. _outboxes.Values];
        }

        try
        {
            await Task.WhenAll(outboxes.Select(o => o.WhenIdle())).WaitAsync(StopFlushTimeout, _time);
        }
        catch (TimeoutException)
        {
            // A peer that does not take its stream in time misses the rest, as if this silo had died.
        }

        lock (_outboxesLock)
        {
            foreach (ReplicaOutbox outbox in _outboxes.Values)
            {
                Retire(outbox);
            }

            _outboxes = [];
        }
    }

    [LoggerMessage(EventId = 3200, EventName = "PresenceBootstrapped", Level = LogLevel.Information,
        Message = "Presence view rebuilt from storage: {RoomCount} rooms, {MembershipCount} joined memberships, {StateCount} stored states")]
    private static partial void LogBootstrapped(ILogger logger, int roomCount, int membershipCount, int stateCount);

    [LoggerMessage(EventId = 3201, EventName = "PresenceRescanFailed", Level = LogLevel.Warning,
        Message = "The second rebuild of the presence view from storage failed; memberships stored while this silo joined may be missing until they change")]
    private static partial void LogScanFailed(ILogger logger, Exception exception);
}
