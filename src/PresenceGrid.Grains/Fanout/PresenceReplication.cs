using System.Text.Json;
using Microsoft.Extensions.Logging;
using PresenceGrid.Grains;
using PresenceGrid.Invocation;
using PresenceGrid.Matrix;
using PresenceGrid.Persistence;

namespace PresenceGrid.Fanout;

/// <summary>
/// Keeps every silo's presence view whole in a cluster, as Synapse's presence stream feeds every
/// worker: each fan-out batch of notified changes goes to every other silo as one message per
/// silo, where the local fan-out delivers it to the inboxes of users syncing there (coalesced per
/// recipient); room membership changes and full-presence markers travel the same way. A starting
/// silo rebuilds room memberships and stored presence from grain storage.
/// </summary>
internal sealed partial class PresenceReplication
{
    public const string StatesChannel = "presence.states";
    public const string MembershipChannel = "presence.membership";
    public const string FullPresenceChannel = "presence.full";

    private readonly IClusterMessaging _cluster;
    private readonly PresenceFanout _fanout;
    private readonly RoomMembershipIndex _rooms;
    private readonly ILogger _logger;
    // (room, user) pairs replication changed since this silo started: newer than anything in storage.
    private readonly HashSet<(string Room, string User)> _touched = [];
    private long _batchesSent;
    private long _messagesSent;
    private long _statesReceived;

    private readonly Hosting.PresenceMetrics _metrics;

    public PresenceReplication(IClusterMessaging cluster, PresenceFanout fanout, RoomMembershipIndex rooms, Hosting.PresenceMetrics metrics, ILogger<PresenceReplication> logger)
    {
        _metrics = metrics;
        _cluster = cluster;
        _fanout = fanout;
        _rooms = rooms;
        _logger = logger;
        cluster.Subscribe(StatesChannel, OnStates);
        cluster.Subscribe(MembershipChannel, OnMembership);
        cluster.Subscribe(FullPresenceChannel, OnFullPresence);
        fanout.Replication = this;
    }

    /// <summary>Fan-out batches sent to peers.</summary>
    public long BatchesSent => Interlocked.Read(ref _batchesSent);

    /// <summary>Messages sent to peers (one per peer per batch).</summary>
    public long MessagesSent => Interlocked.Read(ref _messagesSent);

    /// <summary>States received from peers.</summary>
    public long StatesReceived => Interlocked.Read(ref _statesReceived);

    /// <summary>Sends one batch of locally notified states to every peer (one message per peer).</summary>
    public void Replicate(List<UserPresenceState> states)
    {
        IReadOnlyList<string> peers = _cluster.Peers;
        if (states.Count == 0 || peers.Count == 0)
        {
            return;
        }

        byte[] payload = WriteStates(states);
        foreach (string peer in peers)
        {
            _cluster.Send(peer, StatesChannel, payload);
        }

        Interlocked.Increment(ref _batchesSent);
        Interlocked.Add(ref _messagesSent, peers.Count);
        _metrics.Replicated(states.Count, peers.Count);
    }

    /// <summary>Tells every peer of a joined-membership change made by a room grain here.</summary>
    public void ReplicateMembership(string roomId, UserId userId, bool joined)
    {
        byte[] payload = GrainJson.ToUtf8Bytes((roomId, userId, joined), static (writer, change) =>
        {
            writer.WriteStartArray();
            writer.WriteStringValue(change.roomId);
            writer.WriteStringValue(change.userId.ToString());
            writer.WriteBooleanValue(change.joined);
            writer.WriteEndArray();
        });
        foreach (string peer in _cluster.Peers)
        {
            _cluster.Send(peer, MembershipChannel, payload);
        }
    }

    /// <summary>Tells every peer to send these users a full snapshot on their next sync.</summary>
    public void ReplicateFullPresence(IReadOnlyCollection<UserId> users)
    {
        byte[] payload = GrainJson.ToUtf8Bytes(users, static (writer, users) =>
        {
            writer.WriteStartArray();
            foreach (UserId user in users)
            {
                writer.WriteStringValue(user.ToString());
            }

            writer.WriteEndArray();
        });
        foreach (string peer in _cluster.Peers)
        {
            _cluster.Send(peer, FullPresenceChannel, payload);
        }
    }

    /// <summary>
    /// Rebuilds joined memberships and stored presence from grain storage (a silo joining a running
    /// cluster, or a cluster restarting). What replication already delivered wins over storage.
    /// </summary>
    public async Task BootstrapAsync(IGrainStorage? storage, CancellationToken cancellationToken)
    {
        if (storage is not IGrainStorageScan scan)
        {
            return;
        }

        IReadOnlyList<KeyValuePair<GrainId, RoomRecord>> rooms =
            await scan.ReadAllAsync<RoomRecord>("room", GrainTypeManifest.GrainInterface<IRoomGrain>.GrainType, cancellationToken).ConfigureAwait(false);
        int memberships = 0;
        foreach ((GrainId room, RoomRecord record) in rooms)
        {
            foreach ((string user, string membership) in record.Members)
            {
                bool touched;
                lock (_touched)
                {
                    touched = _touched.Contains((room.Key, user));
                }

                if (!touched && membership == "join" && UserId.TryParse(user, out UserId? userId))
                {
                    _rooms.SetJoined(room.Key, userId, joined: true);
                    memberships++;
                }
            }
        }

        IReadOnlyList<KeyValuePair<GrainId, PresenceRecord>> states =
            await scan.ReadAllAsync<PresenceRecord>("presence", GrainTypeManifest.GrainInterface<IUserPresenceGrain>.GrainType, cancellationToken).ConfigureAwait(false);
        int restored = 0;
        foreach ((GrainId user, PresenceRecord record) in states)
        {
            if (UserId.TryParse(user.Key, out UserId? userId) && PresenceStates.TryParse(record.State, busyEnabled: true, out PresenceState state)
                && _fanout.RestoreState(new UserPresenceState(userId, state, record.LastActiveTs, record.LastFederationUpdateTs, record.LastUserSyncTs, record.StatusMsg, record.CurrentlyActive)))
            {
                restored++;
            }
        }

        LogBootstrapped(_logger, rooms.Count, memberships, restored);
    }

    private void OnStates(string sender, ReadOnlyMemory<byte> payload)
    {
        var reader = new Utf8JsonReader(payload.Span);
        reader.Read();
        int count = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.StartArray)
        {
            reader.Read();
            var userId = UserId.Parse(reader.GetString()!);
            reader.Read();
            PresenceState state = ReadPresence(ref reader);
            reader.Read();
            long lastActive = reader.GetInt64();
            reader.Read();
            long lastFederation = reader.GetInt64();
            reader.Read();
            long lastSync = reader.GetInt64();
            reader.Read();
            string? statusMsg = reader.TokenType == JsonTokenType.Null ? null : reader.GetString();
            reader.Read();
            bool currentlyActive = reader.GetBoolean();
            reader.Read();
            _fanout.Publish(new UserPresenceState(userId, state, lastActive, lastFederation, lastSync, statusMsg, currentlyActive), PublishKind.Replica);
            count++;
        }

        Interlocked.Add(ref _statesReceived, count);
    }

    private void OnMembership(string sender, ReadOnlyMemory<byte> payload)
    {
        var reader = new Utf8JsonReader(payload.Span);
        reader.Read();
        reader.Read();
        string roomId = reader.GetString()!;
        reader.Read();
        var userId = UserId.Parse(reader.GetString()!);
        reader.Read();
        bool joined = reader.GetBoolean();
        lock (_touched)
        {
            _touched.Add((roomId, userId.ToString()));
        }

        _fanout.ApplyMembership(roomId, userId, joined);
    }

    private void OnFullPresence(string sender, ReadOnlyMemory<byte> payload)
    {
        var reader = new Utf8JsonReader(payload.Span);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.String)
        {
            _fanout.MarkFullPresence(UserId.Parse(reader.GetString()!));
        }
    }

    private static byte[] WriteStates(List<UserPresenceState> states) => GrainJson.ToUtf8Bytes(states, static (writer, states) =>
    {
        writer.WriteStartArray();
        foreach (UserPresenceState state in states)
        {
            writer.WriteStartArray();
            writer.WriteStringValue(state.UserId.ToString());
            writer.WriteStringValue(PresenceStates.ToWireString(state.State));
            writer.WriteNumberValue(state.LastActiveTs);
            writer.WriteNumberValue(state.LastFederationUpdateTs);
            writer.WriteNumberValue(state.LastUserSyncTs);
            if (state.StatusMsg is null)
            {
                writer.WriteNullValue();
            }
            else
            {
                writer.WriteStringValue(state.StatusMsg);
            }

            writer.WriteBooleanValue(state.CurrentlyActive);
            writer.WriteEndArray();
        }

        writer.WriteEndArray();
    });

    private static PresenceState ReadPresence(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals(PresenceStates.OnlineString) ? PresenceState.Online
        : reader.ValueTextEquals(PresenceStates.UnavailableString) ? PresenceState.Unavailable
        : reader.ValueTextEquals(PresenceStates.BusyString) ? PresenceState.Busy
        : PresenceState.Offline;

    [LoggerMessage(EventId = 3200, EventName = "PresenceBootstrapped", Level = LogLevel.Information,
        Message = "Presence view rebuilt from storage: {RoomCount} rooms, {MembershipCount} joined memberships, {StateCount} stored states")]
    private static partial void LogBootstrapped(ILogger logger, int roomCount, int membershipCount, int stateCount);
}
