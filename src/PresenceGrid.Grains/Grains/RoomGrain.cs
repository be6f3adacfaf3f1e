using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using PresenceGrid.Fanout;
using PresenceGrid.Federation;
using PresenceGrid.Hosting;
using PresenceGrid.Matrix;
using PresenceGrid.Presence;

namespace PresenceGrid.Grains;

/// <summary>
/// A room's memberships as the homeserver reports them (key: the room id). Joined members route
/// presence and make it visible, unless the room is in <c>exclude_rooms_from_presence</c>.
/// </summary>
[Alias("pg.IRoomGrain")]
public interface IRoomGrain : IGrainWithStringKey
{
    /// <summary>Sets a user's membership: join, leave, invite, ban or knock.</summary>
    /// <param name="userId">The user.</param>
    /// <param name="membership">The membership.</param>
    /// <returns>A task.</returns>
    Task SetMembership(string userId, string membership);

    /// <summary>The memberships (user → membership).</summary>
    /// <returns>The memberships.</returns>
    [ReadOnly]
    Task<IReadOnlyDictionary<string, string>> GetMembers();
}

/// <summary>The stored memberships of a room.</summary>
[GenerateSerializer, Alias("pg.RoomRecord")]
public sealed class RoomRecord
{
    /// <summary>User → membership.</summary>
    [Id(0)]
    public Dictionary<string, string> Members { get; set; } = new(StringComparer.Ordinal);
}

/// <inheritdoc cref="IRoomGrain"/>
[GrainType(GrainTypeName)]
internal sealed class RoomGrain(
    [PersistentState(RoomGrain.StateName)] IPersistentState<RoomRecord> record,
    RoomMembershipIndex index,
    PresenceFanout fanout,
    IOptions<PresenceOptions> options,
    TimeProvider timeProvider) : Grain, IRoomGrain
{
    /// <summary>The grain type's name (the storage key's type part).</summary>
    public const string GrainTypeName = "room";

    /// <summary>The persistent state's name.</summary>
    public const string StateName = "room";

    /// <summary>The grain type.</summary>
    public static readonly GrainType GrainType = GrainType.Create(GrainTypeName);

    /// <summary>The memberships Matrix defines.</summary>
    public static readonly IReadOnlySet<string> Memberships = new HashSet<string>(StringComparer.Ordinal) { "join", "leave", "invite", "ban", "knock" };

    private readonly PresenceOptions _options = options.Value;

    private string RoomId => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        foreach ((string user, string membership) in record.State.Members)
        {
            if (membership == "join" && UserId.TryParse(user, out UserId? userId))
            {
                index.SetJoined(RoomId, userId, joined: true);
            }
        }

        return Task.CompletedTask;
    }

    public async Task SetMembership(string userId, string membership)
    {
        UserId user = UserId.Parse(userId, "user_id");
        if (!Memberships.Contains(membership))
        {
            throw new MatrixValidationException(MatrixErrorCodes.InvalidParam, "membership", $"membership must be one of join, leave, invite, ban, knock; got '{membership}'.");
        }

        string? previous = record.State.Members.GetValueOrDefault(userId);
        if (previous == membership)
        {
            return;
        }

        bool wasJoined = previous == "join";
        bool joined = membership == "join";
        HashSet<string> hostsBefore = joined && !wasJoined ? RemoteHosts() : [];
        if (membership == "leave")
        {
            record.State.Members.Remove(userId);
        }
        else
        {
            record.State.Members[userId] = membership;
        }

        await record.WriteStateAsync();
        if (joined != wasJoined)
        {
            index.SetJoined(RoomId, user, joined);
            fanout.Replication?.ReplicateMembership(RoomId, user, joined);
        }

        if (joined && !wasJoined && !index.IsExcluded(RoomId))
        {
            await OnJoinedAsync(user, hostsBefore);
        }
        else if (membership is "invite" or "knock" && !index.IsExcluded(RoomId))
        {
            // Synapse's sync extras cover users newly invited or knocking, not only joins: the members see their presence.
            fanout.DeliverInviteOrKnock(RoomId, index.Users.GetOrAdd(user));
            fanout.Replication?.ReplicateInviteOrKnock(RoomId, user);
        }
    }

    public Task<IReadOnlyDictionary<string, string>> GetMembers() =>
        Task.FromResult<IReadOnlyDictionary<string, string>>(new Dictionary<string, string>(record.State.Members, StringComparer.Ordinal));

    /// <summary>
    /// A new joined member: it and the members learn each other's presence (Synapse's sync
    /// "newly joined" extras), and federation gets the join-time sends of Synapse's
    /// <c>_handle_state_delta</c> (the router is not consulted here, as in Synapse).
    /// </summary>
    private async Task OnJoinedAsync(UserId joiner, HashSet<string> hostsBefore)
    {
        int joinerIndex = index.Users.GetOrAdd(joiner);
        UserPresenceState joinerState = fanout.LatestState(joinerIndex);
        var memberStates = new List<UserPresenceState>();
        foreach (int member in index.GetMembers(RoomId))
        {
            if (member != joinerIndex)
            {
                memberStates.Add(fanout.LatestState(member));
            }
        }

        fanout.DeliverJoin(RoomId, joinerIndex);

        if (_options.Mode != PresenceMode.Enabled)
        {
            // Join-time sends are registered only when presence is tracked, as in Synapse.
            return;
        }

        if (_options.IsMine(joiner))
        {
            // A local user joined: its state goes to every remote host in the room, offline included.
            foreach (string host in RemoteHosts())
            {
                await GrainFactory.GetGrain<IFederationOutboxGrain>(host).Enqueue([joinerState]);
            }
        }
        else if (!hostsBefore.Contains(joiner.Server.ToString()))
        {
            // A new remote host: it gets the local members' states, less stale offline ones.
            long now = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
            long maxAge = (long)_options.Timings.JoinOfflineStateMaxAge.TotalMilliseconds;
            var local = memberStates
                .Where(s => _options.IsMine(s.UserId))
                .Where(s => s.State != PresenceState.Offline || s.StatusMsg is not null || now - s.LastActiveTs <= maxAge)
                .ToList();
            if (local.Count > 0)
            {
                await GrainFactory.GetGrain<IFederationOutboxGrain>(joiner.Server.ToString()).Enqueue(local);
            }
        }
    }

    private HashSet<string> RemoteHosts()
    {
        var hosts = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach ((string user, string membership) in record.State.Members)
        {
            if (membership == "join" && UserId.TryParse(user, out UserId? userId) && !_options.IsMine(userId))
            {
                hosts.Add(userId.Server.ToString());
            }
        }

        return hosts;
    }
}
