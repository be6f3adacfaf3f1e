using PresenceGrid.Matrix;
using PresenceGrid.Modules;

namespace PresenceGrid.Routing.Tests.Infrastructure;

/// <summary>Records the calls the module API delegates to the grain layer.</summary>
internal sealed class FakePresenceModuleOperations : IPresenceModuleOperations
{
    public List<IReadOnlyList<UserId>> SendLocalOnlinePresenceToCalls { get; } = [];

    public List<IReadOnlyDictionary<UserId, PresenceUpdate>> SetPresenceForUsersCalls { get; } = [];

    public Task SendLocalOnlinePresenceToAsync(IReadOnlyList<UserId> userIds)
    {
        SendLocalOnlinePresenceToCalls.Add(userIds);
        return Task.CompletedTask;
    }

    public Task SetPresenceForUsersAsync(IReadOnlyDictionary<UserId, PresenceUpdate> updates)
    {
        SetPresenceForUsersCalls.Add(updates);
        return Task.CompletedTask;
    }

    /// <summary>Room id → joined members, for the membership reads.</summary>
    public Dictionary<string, List<UserId>> Members { get; } = [];

    public IReadOnlyList<UserId> GetUsersInRoom(RoomId roomId) => Members.TryGetValue(roomId.ToString(), out var members) ? members : [];

    public IReadOnlyList<string> GetRoomsForUser(UserId userId) => [.. Members.Where(room => room.Value.Contains(userId)).Select(room => room.Key)];
}
