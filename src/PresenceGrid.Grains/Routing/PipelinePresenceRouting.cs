using PresenceGrid.Matrix;

namespace PresenceGrid.Routing;

/// <summary>The loaded modules' pipeline as the grain layer uses it.</summary>
internal sealed class PipelinePresenceRouting(PresenceRouterPipeline pipeline) : IPresenceRouting
{
    public bool RoutesStates => pipeline.HasPresenceRouter;

    public bool ReplacesRoomRecipients => pipeline.HasRoomRecipientsReplacement;

    public PresenceRouterPipeline Pipeline => pipeline;

    public Task<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>> GetUsersForStatesAsync(IReadOnlyList<UserPresenceState> states) =>
        GetUsersForStatesAsync(states, trace: null);

    public Task<PresenceInterest> GetInterestedUsersAsync(string userId) => GetInterestedUsersAsync(userId, trace: null);

    public Task<IReadOnlyDictionary<string, IReadOnlySet<string>>?> ReplaceRoomRecipientsAsync(IReadOnlyList<UserPresenceState> states) =>
        ReplaceRoomRecipientsAsync(states, trace: null);

    public async Task<RoutingTrace> TraceAsync(UserPresenceState state, string recipient)
    {
        var trace = new RoutingTrace();
        if (RoutesStates)
        {
            trace.Interest = await GetInterestedUsersAsync(recipient, trace).ConfigureAwait(false);
            trace.RoutedStates = await GetUsersForStatesAsync([state], trace).ConfigureAwait(false);
        }

        trace.Replacement = await ReplaceRoomRecipientsAsync([state], trace).ConfigureAwait(false);
        return trace;
    }

    private async Task<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>> GetUsersForStatesAsync(IReadOnlyList<UserPresenceState> states, RoutingTrace? trace)
    {
        IReadOnlyDictionary<UserId, HashSet<UserPresenceState>> merged = await pipeline.GetUsersForStatesAsync(states, trace).ConfigureAwait(false);
        var result = new Dictionary<string, IReadOnlySet<UserPresenceState>>(merged.Count, StringComparer.Ordinal);
        foreach ((UserId user, HashSet<UserPresenceState> routed) in merged)
        {
            result[user.ToString()] = routed;
        }

        return result;
    }

    private async Task<PresenceInterest> GetInterestedUsersAsync(string userId, RoutingTrace? trace)
    {
        RouterInterest interest = await pipeline.GetInterestedUsersAsync(UserId.Parse(userId, "user_id"), trace).ConfigureAwait(false);
        if (interest.IsAll)
        {
            return PresenceInterest.AllUsers;
        }

        return interest.Users.Count == 0
            ? PresenceInterest.None
            : new PresenceInterest(false, interest.Users.Select(u => u.ToString()).ToHashSet(StringComparer.Ordinal));
    }

    private async Task<IReadOnlyDictionary<string, IReadOnlySet<string>>?> ReplaceRoomRecipientsAsync(IReadOnlyList<UserPresenceState> states, RoutingTrace? trace)
    {
        if (!pipeline.HasRoomRecipientsReplacement)
        {
            return null;
        }

        IReadOnlyDictionary<UserId, HashSet<UserId>> merged = await pipeline.ReplaceRoomRecipientsAsync(states, trace).ConfigureAwait(false);
        var result = new Dictionary<string, IReadOnlySet<string>>(merged.Count, StringComparer.Ordinal);
        foreach ((UserId sender, HashSet<UserId> recipients) in merged)
        {
            result[sender.ToString()] = recipients.Select(r => r.ToString()).ToHashSet(StringComparer.Ordinal);
        }

        return result;
    }
}

/// <summary>The module API's operations, carried out by <see cref="Hosting.PresenceService"/> (resolved lazily: it depends on the router).</summary>
internal sealed class PresenceModuleOperations(IServiceProvider services) : IPresenceModuleOperations
{
    private Hosting.PresenceService Presence => (Hosting.PresenceService)services.GetService(typeof(Hosting.PresenceService))!;

    public Task SendLocalOnlinePresenceToAsync(IReadOnlyList<UserId> userIds) =>
        Presence.SendLocalOnlinePresenceToAsync(userIds.Select(u => u.ToString()));

    private Fanout.RoomMembershipIndex Rooms => (Fanout.RoomMembershipIndex)services.GetService(typeof(Fanout.RoomMembershipIndex))!;

    public Task SetPresenceForUsersAsync(IReadOnlyDictionary<UserId, Modules.PresenceUpdate> updates) =>
        Presence.SetPresenceForUsersAsync(updates.ToDictionary(u => u.Key.ToString(), u => (u.Value.State, u.Value.StatusMsg)));

    public IReadOnlyList<UserId> GetUsersInRoom(RoomId roomId)
    {
        Fanout.RoomMembershipIndex rooms = Rooms;
        return [.. rooms.GetMembers(roomId.ToString()).Select(member => rooms.Users[member].UserId)];
    }

    public IReadOnlyList<string> GetRoomsForUser(UserId userId) => [.. Rooms.GetRooms(userId).Select(room => room.Id)];
}
