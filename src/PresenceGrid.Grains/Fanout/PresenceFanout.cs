using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PresenceGrid.Federation;
using PresenceGrid.Hosting;
using PresenceGrid.Matrix;
using PresenceGrid.Presence;
using PresenceGrid.Replication;
using PresenceGrid.Routing;

namespace PresenceGrid.Fanout;

/// <summary>What a published state is for.</summary>
internal enum PublishKind
{
    /// <summary>A notified change: local recipients and, for local users, federation.</summary>
    Notify,

    /// <summary>A federation keep-alive ping of a local user: federation only.</summary>
    FederationPing,

    /// <summary>A change another silo of the cluster notified: local inboxes only (no federation, no replication).</summary>
    Replica,

    /// <summary>
    /// A change mirrored from the homeserver that owns the user (<c>POST /v1/ingest/states</c>): as <see cref="Notify"/>
    /// (routing, inboxes, replication) but never federated, since the owner federates its own presence.
    /// </summary>
    Mirror,

    /// <summary>
    /// A mirrored user handed back to the grid's timers by a change nobody is told of (a device started syncing, only
    /// <c>last_user_sync_ts</c> moved): clears the user's mirrored mark (<see cref="UserTable.Entry.Mirrored"/>) here
    /// and, replicated, on the peers, so that a silo's death is followed by the takeover of its timers; delivered to no
    /// one, the latest state left as it is.
    /// </summary>
    HandedBack,

    /// <summary>A <see cref="HandedBack"/> another silo of the cluster told (not replicated again).</summary>
    ReplicaHandedBack,
}

/// <summary>
/// Fans published presence out to recipients. User grains publish without waiting (one-way); one
/// loop drains everything queued as a batch, asks the router grain once per batch, and gives each
/// change a silo-wide position. Room mates are reached through the rooms, not one by one: the
/// sender's room position and each of its non-excluded joined rooms are marked with the change's
/// position (a broadcast room also logs it), and a member's sync reads the members of its rooms
/// changed since its token (Synapse's own sync also asks who shares a room at sync time). The
/// other recipients (self, the modules' <c>get_users_for_states</c> keys, ALL-interest users, and
/// the recipients a module put in place of the rooms) are deduplicated with a stamp array and
/// written to their inboxes directly (no grain call per recipient). Local users' changes are also
/// queued per destination server for federation, one call per destination per batch.
/// </summary>
internal sealed partial class PresenceFanout : IAsyncDisposable
{
    private const int MaxBatch = 4096;

    /// <summary>The sender index of a state whose publisher does not know its user's table index.</summary>
    internal const int UnknownSender = -1;

    private readonly PublishQueue<PublishedState> _queue = new();

    private readonly UserTable _users;
    private readonly RoomMembershipIndex _rooms;
    private readonly IGrainFactory _grainFactory;
    private readonly IPresenceRouting _routing;
    private readonly PresenceOptions _options;
    private readonly ILogger _logger;
    private readonly Lock _allUsersLock = new();
    private readonly PresenceMetrics _metrics;
    private readonly DeferredDeliveries _deferred = new();
    private readonly List<RoomMembershipIndex.Room> _marked = [];
    private readonly ModuleRecipients _moduleRecipients = new();
    private readonly Func<UserId, int> _indexOf;
    private int[] _stamps = new int[1024];
    private DeliveryKind[] _kinds = new DeliveryKind[1024];
    private int _stamp;
    private int[] _allUsers = [];
    private readonly Lock _drainLock = new();
    private TaskCompletionSource? _batchDone;
    private Task? _loop;
    private long _published;
    private long _processed;
    private long _deliveries;
    private long _roomLogAppends;
    private long _roomRecipients;
    private long _position;

    public PresenceFanout(
        UserTable users,
        RoomMembershipIndex rooms,
        IGrainFactory grainFactory,
        IPresenceRouting routing,
        IOptions<PresenceOptions> options,
        ILogger<PresenceFanout> logger,
        PresenceMetrics metrics)
    {
        _users = users;
        _rooms = rooms;
        _grainFactory = grainFactory;
        _routing = routing;
        _options = options.Value;
        _logger = logger;
        _metrics = metrics;
        _indexOf = users.GetOrAdd;
    }

    /// <summary>Inbox writes so far.</summary>
    public long Deliveries => Interlocked.Read(ref _deliveries);

    /// <summary>Broadcast-room log appends so far (each one serves every member of the room).</summary>
    public long RoomLogAppends => Interlocked.Read(ref _roomLogAppends);

    /// <summary>
    /// Members reached through their rooms so far: each change counts the members of every room it
    /// marked (a member of two of the sender's rooms counts twice; its sync reads the sender once).
    /// </summary>
    public long RoomRecipients => Interlocked.Read(ref _roomRecipients);

    /// <summary>
    /// The silo-wide fan-out position: every change at or before it has marked its sender and rooms
    /// and is in every broadcast room log it belongs to. Sync tokens carry it.
    /// </summary>
    public long Position => Volatile.Read(ref _position);

    /// <summary>Sends notified changes to the other silos of a cluster (null for a single silo).</summary>
    public Replication.PresenceReplication? Replication { get; set; }

    /// <summary>States published so far.</summary>
    public long Published => Interlocked.Read(ref _published);

    /// <summary>States processed so far (published minus queued).</summary>
    public long Processed => Interlocked.Read(ref _processed);

    /// <summary>Queues a state for fan-out; never blocks.</summary>
    public void Publish(UserPresenceState state, PublishKind kind) => Publish(state, kind, UnknownSender);

    /// <summary>
    /// Queues a state of the user at <paramref name="sender"/> (its <see cref="UserTable"/> index) for fan-out; never
    /// blocks. A <see cref="PublishKind.Mirror"/> state marks the user mirrored here (<see cref="UserTable.Entry.Mirrored"/>)
    /// and on the peers it is replicated to; any other state of the user clears the mark.
    /// </summary>
    public void Publish(UserPresenceState state, PublishKind kind, int sender) =>
        Enqueue(new PublishedState(state, kind, sender, Stopwatch.GetTimestamp(), Mirrored: kind == PublishKind.Mirror));

    /// <summary>Queues a state another silo of the cluster notified (<see cref="PublishKind.Replica"/>); never blocks.</summary>
    /// <param name="state">The state.</param>
    /// <param name="mirrored">Whether that silo had it mirrored from the homeserver (<see cref="UserTable.Entry.Mirrored"/>).</param>
    public void PublishReplica(UserPresenceState state, bool mirrored) =>
        Enqueue(new PublishedState(state, PublishKind.Replica, UnknownSender, Stopwatch.GetTimestamp(), mirrored));

    /// <summary>Queues the hand-back of a mirrored user of this silo to the grid's timers (<see cref="PublishKind.HandedBack"/>); never blocks.</summary>
    /// <param name="state">The user's state (unchanged for its readers).</param>
    /// <param name="sender">The user's <see cref="UserTable"/> index.</param>
    public void PublishHandedBack(UserPresenceState state, int sender) =>
        Enqueue(new PublishedState(state, PublishKind.HandedBack, sender, Stopwatch.GetTimestamp(), Mirrored: false));

    /// <summary>Queues a hand-back another silo told (<see cref="PublishKind.ReplicaHandedBack"/>), in order with its states; never blocks.</summary>
    /// <param name="state">The user's state as that silo had it.</param>
    public void PublishReplicaHandedBack(UserPresenceState state) =>
        Enqueue(new PublishedState(state, PublishKind.ReplicaHandedBack, UnknownSender, Stopwatch.GetTimestamp(), Mirrored: false));

    private void Enqueue(PublishedState published)
    {
        EnsureStarted();
        Interlocked.Increment(ref _published);
        _queue.TryWrite(published);
    }

    /// <summary>Completes when everything published so far has been processed (for tests and benchmarks).</summary>
    public async Task DrainAsync(CancellationToken cancellationToken = default)
    {
        long target = Published;
        while (true)
        {
            Task batchDone;
            lock (_drainLock)
            {
                if (Processed >= target)
                {
                    return;
                }

                _batchDone ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                batchDone = _batchDone.Task;
            }

            await batchDone.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Registers or removes a user whose interest is ALL (learnt when it syncs).</summary>
    public void SetAllInterest(int user, bool all)
    {
        lock (_allUsersLock)
        {
            bool has = Array.IndexOf(_allUsers, user) >= 0;
            if (all && !has)
            {
                _allUsers = [.. _allUsers, user];
            }
            else if (!all && has)
            {
                _allUsers = [.. _allUsers.Where(u => u != user)];
            }
        }
    }

    /// <summary>Delivers senders' latest states straight to one recipient (join-time snapshots).</summary>
    public void DeliverDirect(int recipient, IEnumerable<int> senders, DeliveryKind kind)
    {
        Inbox? inbox = _users.InboxOf(recipient);
        if (inbox is null)
        {
            return;
        }

        foreach (int sender in senders)
        {
            inbox.Deliver(sender, kind);
            Interlocked.Increment(ref _deliveries);
        }
    }

    /// <summary>A member joined a room: it and the room's other members learn each other's presence (inboxes on this silo).</summary>
    public void DeliverJoin(string roomId, int joiner)
    {
        if (_options.Mode == PresenceMode.Disabled)
        {
            return; // no presence in sync when disabled (Synapse's include_presence_data), so no join-time extras
        }

        List<int> members = DeliverToMembers(roomId, joiner);
        DeliverDirect(joiner, members, DeliveryKind.Joined);
    }

    /// <summary>
    /// A user was invited to or knocked on a room: its joined members get the user's presence on their next
    /// incremental sync (Synapse's "newly joined, invited or knocked" sync extras; inboxes on this silo).
    /// Nothing with presence disabled, as for joins.
    /// </summary>
    public void DeliverInviteOrKnock(string roomId, int user)
    {
        if (_options.Mode != PresenceMode.Disabled)
        {
            DeliverToMembers(roomId, user);
        }
    }

    /// <summary>Delivers <paramref name="user"/>'s presence to the room's other joined members as a membership extra; returns them.</summary>
    private List<int> DeliverToMembers(string roomId, int user)
    {
        var members = new List<int>();
        foreach (int member in _rooms.GetMembers(roomId))
        {
            if (member == user)
            {
                continue;
            }

            members.Add(member);
            DeliverDirect(member, [user], DeliveryKind.Joined);
        }

        return members;
    }

    /// <summary>Applies a joined-membership change another silo's room grain made (replication).</summary>
    public void ApplyMembership(string roomId, UserId userId, bool joined)
    {
        bool was = _rooms.SetJoined(roomId, userId, joined);
        if (joined && !was && !_rooms.IsExcluded(roomId))
        {
            DeliverJoin(roomId, _users.GetOrAdd(userId));
        }
    }

    /// <summary>Applies an invite or a knock another silo's room grain took (replication): the members syncing here see the user.</summary>
    public void ApplyInviteOrKnock(string roomId, UserId userId)
    {
        if (!_rooms.IsExcluded(roomId))
        {
            DeliverInviteOrKnock(roomId, _users.GetOrAdd(userId));
        }
    }

    /// <summary>Sets a user's latest state from storage unless this silo already knows a newer one; true when set.</summary>
    /// <param name="state">The stored state.</param>
    /// <param name="mirrored">Whether it was stored as mirrored from the homeserver (<see cref="UserTable.Entry.Mirrored"/>).</param>
    public bool RestoreState(UserPresenceState state, bool mirrored)
    {
        UserTable.Entry entry = _users[_users.GetOrAdd(state.UserId)];
        if (entry.LatestState is not null)
        {
            return false;
        }

        entry.Mirrored = mirrored;
        entry.LatestState = state;
        return true;
    }

    /// <summary>The user's next sync on this silo gets a full snapshot (when it syncs here at all).</summary>
    public void MarkFullPresence(UserId userId)
    {
        if (_users.TryGetIndex(userId.ToString(), out int index))
        {
            _users.InboxOf(index)?.MarkFullPresence();
        }
    }

    /// <summary>The latest state of a user by index (default offline).</summary>
    public UserPresenceState LatestState(int user)
    {
        UserTable.Entry entry = _users[user];
        return entry.LatestState ?? UserPresenceState.Default(entry.UserId);
    }

    /// <summary>The latest state this silo knows for a user (default offline).</summary>
    public UserPresenceState LatestState(UserId userId) =>
        _users.TryGetIndex(userId.ToString(), out int index) ? _users[index].LatestState ?? UserPresenceState.Default(userId) : UserPresenceState.Default(userId);

    public async ValueTask DisposeAsync()
    {
        _queue.Complete();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }
    }

    private void EnsureStarted()
    {
        if (_loop is null)
        {
            lock (_drainLock)
            {
                _loop ??= Task.Run(RunAsync);
            }
        }
    }

    private async Task RunAsync()
    {
        var batch = new List<PublishedState>(MaxBatch);
        while (await _queue.WaitToReadAsync().ConfigureAwait(false))
        {
            _queue.TakeBatch(batch, MaxBatch);

            try
            {
                await ProcessBatchAsync(batch).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                LogBatchFailed(_logger, exception, batch.Count);
            }

            TaskCompletionSource? batchDone;
            lock (_drainLock)
            {
                Interlocked.Add(ref _processed, batch.Count);
                batchDone = _batchDone;
                _batchDone = null;
            }

            batchDone?.TrySetResult();
            batch.Clear();
        }
    }

    private async Task ProcessBatchAsync(List<PublishedState> batch)
    {
        var notified = new List<UserPresenceState>(batch.Count);
        List<ReplicaItem>? replicate = Replication is { HasPeers: true } ? new List<ReplicaItem>(batch.Count) : null;
        List<UserPresenceState>? pings = null;
        foreach ((UserPresenceState state, PublishKind kind, _, _, bool mirrored) in batch)
        {
            if (kind is PublishKind.Notify or PublishKind.Replica or PublishKind.Mirror)
            {
                notified.Add(state);
            }
            else if (kind == PublishKind.FederationPing)
            {
                (pings ??= []).Add(state);
            }

            if (kind is PublishKind.Notify or PublishKind.Mirror)
            {
                replicate?.Add(ReplicaItem.ForState(state, mirrored));
            }
            else if (kind == PublishKind.HandedBack)
            {
                replicate?.Add(ReplicaItem.ForHandedBack(state));
            }
        }

        if (replicate is { Count: > 0 })
        {
            // Queued on each peer silo's ordered stream (sent in batches); each silo fans out to its own inboxes.
            Replication!.Replicate(replicate);
        }

        IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>? routed = null;
        IReadOnlyDictionary<string, IReadOnlySet<string>>? replaced = null;
        if ((notified.Count > 0 || pings is not null) && (_routing.RoutesStates || _routing.ReplacesRoomRecipients))
        {
            IPresenceRouterGrain router = _grainFactory.GetGrain<IPresenceRouterGrain>(PresenceRouterGrain.Key);
            if (_routing.RoutesStates)
            {
                // Keep-alive pings are routed too (Synapse's get_interested_remotes for pings): a remote user the router
                // names keeps hearing from this user, not only the hosts of its rooms. Pings reach federation only.
                routed = await router.GetUsersForStates(pings is null ? notified : [.. notified, .. pings]).ConfigureAwait(false);
            }

            if (_routing.ReplacesRoomRecipients && notified.Count > 0)
            {
                replaced = await router.ReplaceRoomRecipients(notified).ConfigureAwait(false);
            }
        }

        // Router keys per sender (matched by user: a module may build its own states), found without a scan.
        ModuleRecipients moduleRecipients = _moduleRecipients;
        moduleRecipients.Clear();
        if (routed is { Count: > 0 })
        {
            moduleRecipients.Fill(routed, _indexOf);
        }

        var federation = new Dictionary<string, List<UserPresenceState>>(StringComparer.OrdinalIgnoreCase);
        var recipients = new List<int>();
        long deliveries = 0;
        long logAppends = 0;
        long roomRecipients = 0;
        foreach ((UserPresenceState state, PublishKind kind, int knownSender, _, bool mirrored) in batch)
        {
            int sender = knownSender == UnknownSender ? _users.GetOrAdd(state.UserId) : knownSender;
            if (kind is PublishKind.HandedBack or PublishKind.ReplicaHandedBack)
            {
                _users[sender].Mirrored = false;
                continue;
            }

            bool federates = _users[sender].IsLocal && (kind is PublishKind.Notify or PublishKind.FederationPing);
            if (kind is PublishKind.Notify or PublishKind.Replica or PublishKind.Mirror)
            {
                _users[sender].Mirrored = mirrored;
                _users[sender].LatestState = state;
                Volatile.Write(ref _users[sender].ChangePosition, _position + 1);
                recipients.Clear();
                int stamp = NextStamp();
                int reachedThroughRooms = 0;
                Add(recipients, sender, DeliveryKind.Self, stamp);
                if (DeliveryRules.RoomReplacement(replaced, state.UserId) is { } replacement)
                {
                    foreach (string userId in replacement)
                    {
                        if (UserId.TryParse(userId, out UserId? recipient))
                        {
                            Add(recipients, _users.GetOrAdd(recipient), DeliveryKind.Room, stamp);
                        }
                    }
                }
                else
                {
                    // Sender and rooms are marked before the position is published; syncs read only published changes.
                    long position = _position + 1;
                    Volatile.Write(ref _users[sender].RoomPosition, position);
                    foreach (RoomMembershipIndex.Room room in _rooms.GetRooms(sender))
                    {
                        if (room.Excluded)
                        {
                            continue;
                        }

                        int members = room.MemberCount;
                        if (room.Log is { } log)
                        {
                            log.Append(sender, position);
                            logAppends++;
                        }
                        else if (members >= _options.BroadcastRoomThreshold)
                        {
                            room.GetOrCreateLog(_options.BroadcastRoomLogCapacity, position).Append(sender, position);
                            logAppends++;
                        }

                        reachedThroughRooms += members;
                        room.Mark(position);
                        _marked.Add(room);
                    }
                }

                foreach (int key in moduleRecipients.For(state.UserId))
                {
                    Add(recipients, key, DeliveryKind.Module, stamp);
                }

                foreach (int user in Volatile.Read(ref _allUsers))
                {
                    Add(recipients, user, DeliveryKind.AllUsers, stamp);
                }

                if (_deferred.Count + recipients.Count > DeferredDeliveries.FlushThreshold)
                {
                    // Bounded scratch: a large batch is written in parts instead of growing the buffers.
                    deliveries += await _deferred.FlushAsync(_users).ConfigureAwait(false);
                }

                foreach (int recipient in recipients)
                {
                    _deferred.Add(recipient, sender, _kinds[recipient]);
                }

                roomRecipients += reachedThroughRooms;
                _metrics.RecordFanout(recipients.Count + reachedThroughRooms);
                Volatile.Write(ref _position, _position + 1);
                if (_marked.Count > 0)
                {
                    // Published, then a full fence, then the waiters: a sync that registered too late
                    // to be woken sees the published position itself (Room.Changed).
                    Interlocked.MemoryBarrier();
                    foreach (RoomMembershipIndex.Room room in _marked)
                    {
                        room.Wake();
                    }

                    _marked.Clear();
                }
            }

            if (federates)
            {
                CollectDestinations(federation, sender, state, moduleRecipients);
            }
        }

        deliveries += await _deferred.FlushAsync(_users).ConfigureAwait(false);
        _metrics.RecordBatch(batch.Count);
        foreach (PublishedState published in batch)
        {
            if (published.Kind is PublishKind.Notify or PublishKind.Mirror)
            {
                _metrics.RecordChangeToDelivery(Stopwatch.GetElapsedTime(published.PublishedAt));
            }
        }
        Interlocked.Add(ref _deliveries, deliveries);
        Interlocked.Add(ref _roomLogAppends, logAppends);
        Interlocked.Add(ref _roomRecipients, roomRecipients);
        _metrics.Deliveries(deliveries);
        _metrics.RoomRecipients(roomRecipients);
        if (federation.Count > 0)
        {
            // One call per destination server per batch, awaited: the next batch's states queue behind this one's.
            await Task.WhenAll(federation.Select(f => _grainFactory.GetGrain<IFederationOutboxGrain>(f.Key).Enqueue(f.Value))).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Remote servers that must hear of a local user's state (Synapse's <c>get_interested_remotes</c>): the hosts of its
    /// rooms get the state, the servers of the modules' remote keys get the state the module gave them, as given (a
    /// module may redact or rebuild it); a server that is both gets the module's, as Synapse's queue keeps the last.
    /// </summary>
    private void CollectDestinations(
        Dictionary<string, List<UserPresenceState>> federation,
        int sender,
        UserPresenceState state,
        ModuleRecipients moduleRecipients)
    {
        HashSet<string>? hosts = null;
        foreach (RoomMembershipIndex.Room room in _rooms.GetRooms(sender))
        {
            if (!room.Excluded && room.RemoteHosts.Length > 0)
            {
                (hosts ??= new HashSet<string>(StringComparer.OrdinalIgnoreCase)).UnionWith(room.RemoteHosts);
            }
        }

        Dictionary<string, UserPresenceState>? routedHosts = null;
        ModuleRecipients.Enumerator keys = moduleRecipients.For(state.UserId);
        while (keys.MoveNext())
        {
            UserTable.Entry entry = _users[keys.Current];
            if (!entry.IsLocal)
            {
                (routedHosts ??= new Dictionary<string, UserPresenceState>(StringComparer.OrdinalIgnoreCase))[entry.UserId.Server.ToString()] = keys.State;
            }
        }

        if (hosts is not null)
        {
            foreach (string host in hosts)
            {
                QueueFor(federation, host).Add(state);
            }
        }

        if (routedHosts is not null)
        {
            foreach ((string host, UserPresenceState routedState) in routedHosts)
            {
                QueueFor(federation, host).Add(routedState);
            }
        }
    }

    private static List<UserPresenceState> QueueFor(Dictionary<string, List<UserPresenceState>> federation, string host)
    {
        if (!federation.TryGetValue(host, out List<UserPresenceState>? states))
        {
            federation[host] = states = [];
        }

        return states;
    }

    private int NextStamp()
    {
        if (++_stamp == int.MaxValue)
        {
            Array.Clear(_stamps);
            _stamp = 1;
        }

        int count = _users.Count;
        if (_stamps.Length < count)
        {
            int size = Math.Max(count, _stamps.Length * 2);
            Array.Resize(ref _stamps, size);
            Array.Resize(ref _kinds, size);
        }

        return _stamp;
    }

    private void Add(List<int> recipients, int user, DeliveryKind kind, int stamp)
    {
        if (user >= _stamps.Length)
        {
            int size = Math.Max(user + 1, _stamps.Length * 2);
            Array.Resize(ref _stamps, size);
            Array.Resize(ref _kinds, size);
        }

        if (_stamps[user] != stamp)
        {
            _stamps[user] = stamp;
            _kinds[user] = kind;
            recipients.Add(user);
        }
        else
        {
            _kinds[user] |= kind;
        }
    }

    [LoggerMessage(EventId = 3300, EventName = "FanoutBatchFailed", Level = LogLevel.Error,
        Message = "A fan-out batch of {Count} states failed")]
    private static partial void LogBatchFailed(ILogger logger, Exception exception, int count);
}

/// <summary>A state waiting for fan-out, with when it was published (for the change-to-delivery metric).</summary>
/// <remarks>
/// <see cref="Sender"/> is the user's <see cref="UserTable"/> index, or <see cref="PresenceFanout.UnknownSender"/> when the
/// publisher does not know it; <see cref="Mirrored"/>: the state was mirrored from the homeserver (here or on the silo
/// that replicated it).
/// </remarks>
internal readonly record struct PublishedState(UserPresenceState State, PublishKind Kind, int Sender, long PublishedAt, bool Mirrored);
