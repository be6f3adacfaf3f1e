using System.Globalization;
using Microsoft.Extensions.Options;
using PresenceGrid.Fanout;
using PresenceGrid.Hosting;
using PresenceGrid.Matrix;
using PresenceGrid.Routing;

namespace PresenceGrid.Sync;

/// <summary>The presence part of a sync: events and the token for the next one.</summary>
/// <param name="Events">The states, one per sender.</param>
/// <param name="NextBatch">The opaque token for the next incremental sync.</param>
public sealed record PresenceSyncResult(IReadOnlyList<UserPresenceState> Events, string NextBatch);

/// <summary>
/// Computes a user's presence for sync (Synapse §4) on this silo. Incremental syncs read what
/// changed after the token: the inbox (self, the modules' recipients, ALL interest, join-time
/// states), the user's rooms changed since the token (a broadcast room's log, a smaller room's
/// members whose room position is past the token) and the modules' extra users who changed since
/// it, so the cost follows the changes and the rooms that changed, for ALL-interest users too (whose
/// changed senders go through the modules at sync time). Initial syncs, <c>full_state</c> and the
/// full-presence marker get a snapshot; so does a token older than the inbox holds, keeping the
/// offline states of those who changed since it. With a timeout an incremental sync waits for the
/// inbox or one of the rooms to move.
/// </summary>
internal sealed class PresenceSyncService
{
    // Scratch of ReadIncremental (synchronous, so one per thread is enough); not kept once it grew past this.
    private const int MaxRetainedScratch = 4096;

    // A snapshot's "changed since" position that no change passes: offline states are kept only when asked for.
    private const long NotChangedSince = long.MaxValue;

    [ThreadStatic]
    private static List<int>? t_senders;

    [ThreadStatic]
    private static HashSet<int>? t_seen;

    private readonly UserTable _users;
    private readonly Comparer<int> _byRoomPosition;
    private readonly RoomMembershipIndex _rooms;
    private readonly PresenceFanout _fanout;
    private readonly IGrainFactory _grainFactory;
    private readonly IPresenceRouting _routing;
    private readonly PresenceOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly Func<long> _publishedPosition;

    public PresenceSyncService(
        UserTable users,
        RoomMembershipIndex rooms,
        PresenceFanout fanout,
        IGrainFactory grainFactory,
        IPresenceRouting routing,
        IOptions<PresenceOptions> options,
        TimeProvider timeProvider)
    {
        _users = users;
        _byRoomPosition = Comparer<int>.Create((a, b) => Volatile.Read(ref _users[a].RoomPosition).CompareTo(Volatile.Read(ref _users[b].RoomPosition)));
        _rooms = rooms;
        _fanout = fanout;
        _grainFactory = grainFactory;
        _routing = routing;
        _options = options.Value;
        _timeProvider = timeProvider;
        _publishedPosition = () => fanout.Position;
    }

    /// <summary>The user's inbox, created on its first sync.</summary>
    public Inbox InboxOf(UserId userId) => _users.GetOrCreateInbox(_users.GetOrAdd(userId));

    public async Task<PresenceSyncResult> SyncAsync(UserId userId, string? since, bool fullState, TimeSpan timeout, CancellationToken cancellationToken)
    {
        SyncToken? token = since is null ? null : ParseToken(since);
        Inbox inbox = InboxOf(userId);
        int userIndex = _users.GetOrAdd(userId);
        PresenceInterest interest = await GetInterestAsync(userId).ConfigureAwait(false);
        _fanout.SetAllInterest(userIndex, interest.All);

        if (token is not { } from || fullState || from.Epoch != inbox.Epoch || from.Fanout > _fanout.Position + 1)
        {
            return await SnapshotAsync(userId, inbox, interest, _options.IncludeOfflineUsersOnSync, NotChangedSince).ConfigureAwait(false);
        }

        if (SnapshotFor(userId, inbox, from, interest) is { } snapshot)
        {
            return await snapshot.ConfigureAwait(false);
        }

        PresenceSyncResult result = await ReadIncrementalAsync(userId, userIndex, inbox, from, interest).ConfigureAwait(false);
        TimeSpan wait = timeout > _options.MaxSyncTimeout ? _options.MaxSyncTimeout : timeout;
        if (result is { Events.Count: 0 } && wait > TimeSpan.Zero)
        {
            if (!await WaitForChangeAsync(userIndex, inbox, from, interest, wait, cancellationToken).ConfigureAwait(false))
            {
                return result;
            }

            if (SnapshotFor(userId, inbox, from, interest) is { } woken)
            {
                return await woken.ConfigureAwait(false);
            }

            result = await ReadIncrementalAsync(userId, userIndex, inbox, from, interest).ConfigureAwait(false);
        }

        return result;
    }

    /// <summary>The snapshot a token of this inbox gets instead of an incremental read, or null for an incremental read.</summary>
    private Task<PresenceSyncResult>? SnapshotFor(UserId userId, Inbox inbox, SyncToken from, PresenceInterest interest) =>
        inbox.Check(from.Inbox) switch
        {
            InboxToken.Current => null,

            // Synapse's get_new_events: the full-presence marker sets from_key = None and include_offline = False,
            // whatever include_offline_users_on_sync says (send_local_online_presence_to sends online presence).
            InboxToken.FullPresence => SnapshotAsync(userId, inbox, interest, includeOffline: false, NotChangedSince),

            // An old but valid token: Synapse answers it incrementally with include_offline = True (a change-cache
            // miss reads the database); the snapshot keeps the offline states of everyone who changed since it.
            InboxToken.Trimmed => SnapshotAsync(userId, inbox, interest, _options.IncludeOfflineUsersOnSync, from.Fanout),
            _ => SnapshotAsync(userId, inbox, interest, _options.IncludeOfflineUsersOnSync, NotChangedSince),
        };

    /// <summary>
    /// Waits until the inbox moves past the token or, unless the user's interest is ALL, one of its
    /// rooms gets a published change after it; false when the time is up. One wake-up is registered in
    /// the inbox and each room and taken back when the wait ends, so an inbox or room that stays
    /// quiet keeps nothing of the syncs that waited on it.
    /// </summary>
    private async Task<bool> WaitForChangeAsync(int userIndex, Inbox inbox, SyncToken from, PresenceInterest interest, TimeSpan wait, CancellationToken cancellationToken)
    {
        var wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!inbox.Watch(wake, from.Inbox))
        {
            return true;
        }

        var watched = new List<RoomMembershipIndex.Room>();
        try
        {
            if (!interest.All)
            {
                foreach (RoomMembershipIndex.Room room in _rooms.GetRooms(userIndex))
                {
                    if (room.Excluded)
                    {
                        continue;
                    }

                    if (!room.Watch(wake, from.Fanout, _publishedPosition))
                    {
                        return true;
                    }

                    watched.Add(room);
                }
            }

            await wake.Task.WaitAsync(wait, _timeProvider, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
        finally
        {
            inbox.Unwatch(wake);
            foreach (RoomMembershipIndex.Room room in watched)
            {
                room.Unwatch(wake);
            }
        }
    }

    /// <summary>
    /// What changed since the token, with a user whose interest is ALL given exactly what the modules route to it
    /// among the changed users' states (Synapse's <c>_filter_all_presence_updates_for_user</c>: the module's
    /// states as given, asked at sync time).
    /// </summary>
    private async Task<PresenceSyncResult> ReadIncrementalAsync(UserId userId, int userIndex, Inbox inbox, SyncToken from, PresenceInterest interest)
    {
        (List<UserPresenceState> events, List<UserPresenceState>? extras, string nextBatch) = ReadIncremental(userIndex, inbox, from, interest);
        if (interest.All)
        {
            events = events.Count > 0 ? await RoutedToAsync(userId, events).ConfigureAwait(false) : events;
            if (extras is not null)
            {
                // Synapse appends the membership extras after get_new_events; per user the last entry wins.
                events.RemoveAll(state => extras.Exists(extra => extra.UserId.Equals(state.UserId)));
                events.AddRange(extras);
            }
        }

        return new PresenceSyncResult(events, nextBatch);
    }

    /// <summary>
    /// What changed since the token: the inbox after its position, plus, from the user's rooms that
    /// changed after the token's fan-out position, a broadcast room's log entries or a smaller
    /// room's members whose room position is past it, plus the modules' extra users
    /// (<c>get_interested_users</c>) who changed after it; each sender once, at its latest state.
    /// For an ALL user: every changed sender's latest state, still to be routed, and apart the membership extras.
    /// </summary>
    private (List<UserPresenceState> Events, List<UserPresenceState>? Extras, string NextBatch) ReadIncremental(int userIndex, Inbox inbox, SyncToken from, PresenceInterest interest)
    {
        // Captured first: every change up to it has marked its sender and rooms. Only those are read:
        // a change still being fanned out comes in the next sync, so none is skipped or read twice.
        long fanoutPosition = _fanout.Position;
        List<(int Sender, DeliveryKind Kind)> delivered = inbox.ReadSince(from.Inbox, out long inboxPosition);
        List<int> senders = t_senders ??= [];
        senders.Clear();
        if (!interest.All)
        {
            foreach (RoomMembershipIndex.Room room in _rooms.GetRooms(userIndex))
            {
                if (room.Excluded || room.LastChange <= from.Fanout)
                {
                    continue;
                }

                if (room.Log is { } log && log.ReadSince(from.Fanout, fanoutPosition, senders))
                {
                    continue;
                }

                // A smaller room, or a log that does not reach back to the token: its members' positions tell, and
                // give the order the changes happened in (S12), whatever order the members joined in.
                int firstOfRoom = senders.Count;
                foreach (int member in room.Members)
                {
                    long position = Volatile.Read(ref _users[member].RoomPosition);
                    if (position > from.Fanout && position <= fanoutPosition)
                    {
                        senders.Add(member);
                    }
                }

                if (senders.Count - firstOfRoom > 1)
                {
                    senders.Sort(firstOfRoom, senders.Count - firstOfRoom, _byRoomPosition);
                }
            }

            // Synapse's candidates = (sharing ∪ extra) ∩ updated: a user the modules declared interesting is read
            // when it changed after the token, whether or not get_users_for_states routed it here (it is not
            // woken early for it: the change comes with the next sync, as in Synapse).
            foreach (string extra in interest.Users)
            {
                if (_users.TryGetIndex(extra, out int index))
                {
                    long position = Volatile.Read(ref _users[index].ChangePosition);
                    if (position > from.Fanout && position <= fanoutPosition)
                    {
                        senders.Add(index);
                    }
                }
            }
        }

        HashSet<int> seen = t_seen ??= [];
        seen.Clear();
        var events = new List<UserPresenceState>(delivered.Count + senders.Count);
        List<UserPresenceState>? extras = null;
        foreach ((int sender, DeliveryKind kind) in delivered)
        {
            UserPresenceState state = _fanout.LatestState(sender);
            if (!DeliveryRules.IsVisible(kind, state.UserId, interest) || !seen.Add(sender))
            {
                continue;
            }

            if (interest.All && DeliveryRules.IsMembershipExtra(kind))
            {
                (extras ??= []).Add(state);
            }
            else
            {
                events.Add(state);
            }
        }

        foreach (int sender in senders)
        {
            if (seen.Add(sender))
            {
                events.Add(_fanout.LatestState(sender));
            }
        }

        if (senders.Count > MaxRetainedScratch || seen.Count > MaxRetainedScratch)
        {
            t_senders = null;
            t_seen = null;
        }

        return (events, extras, new SyncToken(inbox.Epoch, inboxPosition, fanoutPosition).ToString());
    }

    /// <summary>
    /// Synapse's ALL path: <c>get_users_for_states(states)[user]</c>, the module's states as given (a module may
    /// rebuild them, e.g. without the status); none when the module does not name the user (quirk 1).
    /// </summary>
    private async Task<List<UserPresenceState>> RoutedToAsync(UserId userId, List<UserPresenceState> states)
    {
        IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>> routed =
            await _grainFactory.GetGrain<IPresenceRouterGrain>(PresenceRouterGrain.Key).GetUsersForStates(states).ConfigureAwait(false);
        return routed.TryGetValue(userId.ToString(), out IReadOnlySet<UserPresenceState>? mine) ? [.. mine] : [];
    }

    /// <summary>
    /// A full answer: the user, its non-excluded rooms' members and the modules' extra users (an ALL user: what
    /// the modules route to it among every known state), offline ones only when <paramref name="includeOffline"/>
    /// or when they changed after the fan-out position <paramref name="changedSince"/> (an old token's answer).
    /// </summary>
    private async Task<PresenceSyncResult> SnapshotAsync(UserId userId, Inbox inbox, PresenceInterest interest, bool includeOffline, long changedSince)
    {
        long fanoutPosition = _fanout.Position;
        long position = inbox.Position;
        var events = new List<UserPresenceState>();
        if (_options.Mode == PresenceGrid.Presence.PresenceMode.Disabled)
        {
            // No presence in sync when disabled (Synapse's include_presence_data); only an incremental sync carries
            // the stale-flush catch-up.
            return new PresenceSyncResult(events, new SyncToken(inbox.Epoch, position, fanoutPosition).ToString());
        }

        if (interest.All)
        {
            // Initial sync of an ALL user: every known state through the modules (Synapse reads
            // the whole presence table here too); a missing key yields no events (quirk 1).
            var all = new List<UserPresenceState>();
            for (int i = 0; i < _users.Count; i++)
            {
                if (_users[i].LatestState is { } state && Keeps(i, state, includeOffline, changedSince))
                {
                    all.Add(state);
                }
            }

            if (all.Count > 0)
            {
                events = await RoutedToAsync(userId, all).ConfigureAwait(false);
            }

            return new PresenceSyncResult(events, new SyncToken(inbox.Epoch, position, fanoutPosition).ToString());
        }

        // Candidates by user index: room mates come as indexes already; only the modules' extra users are parsed.
        var candidates = new HashSet<int> { _users.GetOrAdd(userId) };
        foreach (RoomMembershipIndex.Room room in _rooms.GetRooms(userId))
        {
            if (!room.Excluded)
            {
                candidates.UnionWith(room.Members);
            }
        }

        foreach (string extra in interest.Users)
        {
            if (UserId.TryParse(extra, out UserId? extraId))
            {
                candidates.Add(_users.GetOrAdd(extraId));
            }
        }

        foreach (int candidate in candidates)
        {
            UserPresenceState state = _fanout.LatestState(candidate);
            if (Keeps(candidate, state, includeOffline, changedSince))
            {
                events.Add(state);
            }
        }

        return new PresenceSyncResult(events, new SyncToken(inbox.Epoch, position, fanoutPosition).ToString());
    }

    /// <summary>Whether a snapshot keeps a user's state: not offline, offline ones included, or changed after <paramref name="changedSince"/>.</summary>
    private bool Keeps(int user, UserPresenceState state, bool includeOffline, long changedSince) =>
        includeOffline || state.State != PresenceState.Offline || Volatile.Read(ref _users[user].ChangePosition) > changedSince;

    private async Task<PresenceInterest> GetInterestAsync(UserId userId) =>
        _routing.RoutesStates
            ? await _grainFactory.GetGrain<IPresenceRouterGrain>(PresenceRouterGrain.Key).GetInterestedUsers(userId.ToString()).ConfigureAwait(false)
            : PresenceInterest.None;

    private static SyncToken ParseToken(string token)
    {
        string[] parts = token.Split('_');
        if (parts.Length != 3 || parts[0].Length < 2 || parts[0][0] != 'p'
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long inbox)
            || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out long fanout))
        {
            throw new MatrixValidationException(MatrixErrorCodes.InvalidParam, "since", $"since is not a presence token of this grid: '{token}'.");
        }

        // An epoch this grid never made (not hex) just differs from every inbox's: a snapshot follows.
        long epoch = long.TryParse(parts[0].AsSpan(1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long parsed) ? parsed : -1;
        return new SyncToken(epoch, inbox, fanout);
    }

    /// <summary>A sync token: the inbox's epoch and position, and the silo's fan-out position.</summary>
    private readonly record struct SyncToken(long Epoch, long Inbox, long Fanout)
    {
        public override string ToString() =>
            string.Create(CultureInfo.InvariantCulture, $"p{Epoch:x}_{Inbox}_{Fanout}");
    }
}
