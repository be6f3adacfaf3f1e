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
/// Computes a user's presence for sync (Synapse §4) from its inbox on this silo: incremental syncs
/// read what was delivered after the token (O(changes), for ALL-interest users too); initial syncs,
/// <c>full_state</c>, stale tokens and the full-presence marker get a snapshot. With a timeout an
/// incremental sync waits for the inbox to move.
/// </summary>
internal sealed class PresenceSyncService
{
    private readonly UserTable _users;
    private readonly RoomMembershipIndex _rooms;
    private readonly PresenceFanout _fanout;
    private readonly IGrainFactory _grainFactory;
    private readonly IPresenceRouting _routing;
    private readonly PresenceOptions _options;
    private readonly TimeProvider _timeProvider;

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
        _rooms = rooms;
        _fanout = fanout;
        _grainFactory = grainFactory;
        _routing = routing;
        _options = options.Value;
        _timeProvider = timeProvider;
    }

    /// <summary>The user's inbox, created on its first sync.</summary>
    public Inbox InboxOf(UserId userId)
    {
        UserTable.Entry entry = _users[_users.GetOrAdd(userId)];
        if (entry.Inbox is null)
        {
            Interlocked.CompareExchange(ref entry.Inbox, new Inbox(), null);
        }

        return entry.Inbox!;
    }

    public async Task<PresenceSyncResult> SyncAsync(UserId userId, string? since, bool fullState, TimeSpan timeout, CancellationToken cancellationToken)
    {
        (string Epoch, long Position)? token = since is null ? null : ParseToken(since);
        Inbox inbox = InboxOf(userId);
        int userIndex = _users.GetOrAdd(userId);
        PresenceInterest interest = await GetInterestAsync(userId).ConfigureAwait(false);
        _fanout.SetAllInterest(userIndex, interest.All);

        bool snapshot = token is null || fullState || token.Value.Epoch != inbox.Epoch || inbox.NeedsFullSnapshot(token.Value.Position);
        if (!snapshot)
        {
            long from = token!.Value.Position;
            TimeSpan wait = timeout > _options.MaxSyncTimeout ? _options.MaxSyncTimeout : timeout;
            if (wait > TimeSpan.Zero && inbox.Position <= from)
            {
                await inbox.WaitAsync(from, wait, _timeProvider, cancellationToken).ConfigureAwait(false);
                if (inbox.NeedsFullSnapshot(from))
                {
                    return await SnapshotAsync(userId, inbox, interest).ConfigureAwait(false);
                }
            }

            List<(int Sender, DeliveryKind Kind)> delivered = inbox.ReadSince(from, out long position);
            var events = new List<UserPresenceState>(delivered.Count);
            foreach ((int sender, DeliveryKind kind) in delivered)
            {
                UserPresenceState state = _fanout.LatestState(sender);
                if (IsVisible(state, kind, interest))
                {
                    events.Add(state);
                }
            }

            return new PresenceSyncResult(events, FormatToken(inbox.Epoch, position));
        }

        return await SnapshotAsync(userId, inbox, interest).ConfigureAwait(false);
    }

    /// <summary>Synapse's filter on what a recipient sees: ALL users see exactly the modules' result.</summary>
    private static bool IsVisible(UserPresenceState state, DeliveryKind kind, PresenceInterest interest)
    {
        if (interest.All)
        {
            return (kind & DeliveryKind.Module) != 0;
        }

        return (kind & (DeliveryKind.Self | DeliveryKind.Room)) != 0 || interest.Users.Contains(state.UserId.ToString());
    }

    private async Task<PresenceSyncResult> SnapshotAsync(UserId userId, Inbox inbox, PresenceInterest interest)
    {
        long position = inbox.Position;
        bool includeOffline = _options.IncludeOfflineUsersOnSync;
        var events = new List<UserPresenceState>();
        if (interest.All)
        {
            // Initial sync of an ALL user: every known state through the modules (Synapse reads
            // the whole presence table here too); a missing key yields no events (quirk 1).
            var all = new List<UserPresenceState>();
            for (int i = 0; i < _users.Count; i++)
            {
                if (_users[i].LatestState is { } state && (includeOffline || state.State != PresenceState.Offline))
                {
                    all.Add(state);
                }
            }

            if (all.Count > 0)
            {
                IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>> routed =
                    await _grainFactory.GetGrain<IPresenceRouterGrain>(PresenceRouterGrain.Key).GetUsersForStates(all).ConfigureAwait(false);
                if (routed.TryGetValue(userId.ToString(), out IReadOnlySet<UserPresenceState>? mine))
                {
                    events.AddRange(mine);
                }
            }

            return new PresenceSyncResult(events, FormatToken(inbox.Epoch, position));
        }

        var candidates = new HashSet<string>(StringComparer.Ordinal) { userId.ToString() };
        foreach (RoomMembershipIndex.Room room in _rooms.GetRooms(userId))
        {
            if (room.Excluded)
            {
                continue;
            }

            foreach (int member in room.Members)
            {
                candidates.Add(_users[member].UserId.ToString());
            }
        }

        candidates.UnionWith(interest.Users);
        foreach (string candidate in candidates)
        {
            if (!UserId.TryParse(candidate, out UserId? candidateId))
            {
                continue;
            }

            UserPresenceState state = _fanout.LatestState(candidateId);
            if (includeOffline || state.State != PresenceState.Offline)
            {
                events.Add(state);
            }
        }

        return new PresenceSyncResult(events, FormatToken(inbox.Epoch, position));
    }

    private async Task<PresenceInterest> GetInterestAsync(UserId userId) =>
        _routing.RoutesStates
            ? await _grainFactory.GetGrain<IPresenceRouterGrain>(PresenceRouterGrain.Key).GetInterestedUsers(userId.ToString()).ConfigureAwait(false)
            : PresenceInterest.None;

    private static string FormatToken(string epoch, long position) => $"p{epoch}_{position.ToString(CultureInfo.InvariantCulture)}";

    private static (string Epoch, long Position) ParseToken(string token)
    {
        int underscore = token.IndexOf('_', StringComparison.Ordinal);
        if (token.Length < 4 || token[0] != 'p' || underscore < 2
            || !long.TryParse(token.AsSpan(underscore + 1), NumberStyles.None, CultureInfo.InvariantCulture, out long position))
        {
            throw new MatrixValidationException(MatrixErrorCodes.InvalidParam, "since", $"since is not a presence token of this grid: '{token}'.");
        }

        return (token[1..underscore], position);
    }
}
