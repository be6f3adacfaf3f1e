using Microsoft.Extensions.Logging;
using PresenceGrid.Matrix;
using PresenceGrid.Modules;

namespace PresenceGrid.Routing;

/// <summary>
/// The <see cref="IModuleApi"/> given to one module: registrations go into the <see cref="PresenceRouterPipeline"/> under the module's
/// identity; the operations are validated and delegated to <see cref="IPresenceModuleOperations"/>.
/// </summary>
internal sealed class ModuleApi : IModuleApi
{
    private readonly PresenceRouterPipeline _pipeline;
    private readonly ModuleHost _host;

    public ModuleApi(ModuleIdentity module, PresenceRouterPipeline pipeline, ModuleHost host)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(host);
        Module = module;
        _pipeline = pipeline;
        _host = host;
    }

    public ModuleIdentity Module { get; }

    /// <summary>Whether this module registered presence router callbacks (used to avoid wrapping a legacy router twice).</summary>
    public bool RegisteredPresenceRouter { get; private set; }

    public IReadOnlyCollection<ServerName> LocalServerNames => _host.LocalServerNames;

    public ILoggerFactory LoggerFactory => _host.LoggerFactory;

    public TimeProvider TimeProvider => _host.TimeProvider;

    public HttpClient HttpClient => _host.HttpClient;

    public UserId GetQualifiedUserId(string username)
    {
        ArgumentNullException.ThrowIfNull(username);
        var value = username.StartsWith('@') ? username : $"@{username}:{_host.LocalServerNames.First()}";
        return ParseUserId(value, nameof(username));
    }

    public Task<IReadOnlyList<UserId>> GetUsersInRoomAsync(string roomId) =>
        Task.FromResult(RoomId.TryParse(roomId, out var room)
            ? _host.Operations.GetUsersInRoom(room)
            : throw new ArgumentException($"'{roomId}' is not a valid room id.", nameof(roomId)));

    public Task<IReadOnlyList<string>> GetRoomsForUserAsync(UserId userId)
    {
        ArgumentNullException.ThrowIfNull(userId);
        return Task.FromResult(_host.Operations.GetRoomsForUser(userId));
    }

    public IDisposable LoopingBackgroundCall(Func<CancellationToken, Task> callback, TimeSpan interval)
    {
        ArgumentNullException.ThrowIfNull(callback);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        return _host.StartBackgroundCall(Module, callback, interval, interval);
    }

    public IDisposable DelayedBackgroundCall(TimeSpan delay, Func<CancellationToken, Task> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        return _host.StartBackgroundCall(Module, callback, delay, period: null);
    }

    public bool IsMine(UserId userId)
    {
        ArgumentNullException.ThrowIfNull(userId);
        return _host.IsMine(userId);
    }

    public void RegisterPresenceRouterCallbacks(GetUsersForStatesCallback? getUsersForStates = null, GetInterestedUsersCallback? getInterestedUsers = null)
    {
        _pipeline.AddPresenceRouterCallbacks(Module, getUsersForStates, getInterestedUsers);
        RegisteredPresenceRouter |= getUsersForStates is not null;
    }

    public void RegisterRoomRecipientsReplacement(ReplaceRoomRecipientsCallback replaceRoomRecipients)
    {
        ArgumentNullException.ThrowIfNull(replaceRoomRecipients);
        _pipeline.AddRoomRecipientsReplacement(Module, replaceRoomRecipients);
    }

    public Task SendLocalOnlinePresenceToAsync(IEnumerable<string> userIds)
    {
        ArgumentNullException.ThrowIfNull(userIds);
        var seen = new HashSet<UserId>();
        var recipients = new List<UserId>();
        foreach (var value in userIds)
        {
            var userId = ParseUserId(value, nameof(userIds));
            if (seen.Add(userId))
            {
                recipients.Add(userId);
            }
        }

        return recipients.Count == 0 ? Task.CompletedTask : _host.Operations.SendLocalOnlinePresenceToAsync(recipients);
    }

    public Task SetPresenceForUsersAsync(IReadOnlyDictionary<string, PresenceUpdate> updates)
    {
        ArgumentNullException.ThrowIfNull(updates);
        var parsed = new Dictionary<UserId, PresenceUpdate>(updates.Count);
        foreach (var (key, update) in updates)
        {
            var userId = ParseUserId(key, nameof(updates));
            if (update is null)
            {
                throw new ArgumentException($"The update for '{key}' is null.", nameof(updates));
            }

            if (!Enum.IsDefined(update.State))
            {
                throw new ArgumentException($"The update for '{key}' has the undefined presence state {(int)update.State}.", nameof(updates));
            }

            parsed[userId] = update;
        }

        return parsed.Count == 0 ? Task.CompletedTask : _host.Operations.SetPresenceForUsersAsync(parsed);
    }

    private static UserId ParseUserId(string? value, string parameterName) =>
        UserId.TryParse(value, out var userId)
            ? userId
            : throw new ArgumentException($"'{value}' is not a valid Matrix user id.", parameterName);
}
