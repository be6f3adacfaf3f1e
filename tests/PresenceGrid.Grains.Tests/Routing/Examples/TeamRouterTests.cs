using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PresenceGrid.Matrix;
using PresenceGrid.Modules;
using PresenceGrid.Routing.Tests.Infrastructure;

namespace PresenceGrid.Routing.Tests.Examples;

/// <summary>How a module author tests a module without PresenceGrid's internals (docs/modules.md, "Testing a module").</summary>
public sealed class TeamRouterTests
{
    private static IConfiguration Yaml(params (string Key, string Value)[] flattened) =>
        new ConfigurationBuilder().AddInMemoryCollection(flattened.Select(static p => new KeyValuePair<string, string?>(p.Key, p.Value))).Build();

    private static UserPresenceState Online(string mxid) =>
        UserPresenceState.Default(UserId.Parse(mxid)) with { State = PresenceState.Online };

    private static TeamRouter Create(RecordingModuleApi api) => new(
        TeamRouter.ParseConfig(Yaml(
            ("teams:core:0", "@alice:example.org"),
            ("teams:core:1", "@bob:example.org"),
            ("teams:ops:0", "@bob:example.org"),
            ("teams:ops:1", "@carol:remote.example"))),
        api);

    [Fact]
    public void Constructor_RegistersBothCallbacks()
    {
        var api = new RecordingModuleApi();

        Create(api);

        Assert.NotNull(api.GetUsersForStates);
        Assert.NotNull(api.GetInterestedUsers);
    }

    [Fact]
    public async Task Teammates_ReceiveEachOthersPresence_AndTheCallbacksLineUp()
    {
        var api = new RecordingModuleApi();
        Create(api);

        var routed = await api.GetUsersForStates!([Online("@alice:example.org"), Online("@carol:remote.example")]);
        var bob = await api.GetInterestedUsers!("@bob:example.org");
        var alice = await api.GetInterestedUsers!("@alice:example.org");

        Assert.NotNull(routed);
        Assert.Equal(["@alice:example.org", "@carol:remote.example"], routed["@bob:example.org"].Select(static s => s.UserId.ToString()).Order());
        Assert.False(routed.ContainsKey("@alice:example.org")); // Carol is not Alice's teammate.
        Assert.Equal(["@alice:example.org", "@carol:remote.example"], bob!.UserIds.Order());
        Assert.Equal(["@bob:example.org"], alice!.UserIds);
    }

    [Fact]
    public void ParseConfig_RejectsABadMember()
    {
        var e = Assert.Throws<ModuleConfigException>(() => TeamRouter.ParseConfig(Yaml(("teams:core:0", "alice"))));

        Assert.Equal("teams.core[0]: 'alice' is not a valid Matrix user id.", e.Message);
    }

    [Fact]
    public async Task LoadsThroughTheLoader_AndPassesTheConsistencyCheck()
    {
        using var h = new RouterHarness();
        h.Load(TestData.Config(
            ("modules:0:module", "PresenceGrid.Routing.Tests.Examples.TeamRouter, PresenceGrid.Grains.Tests"),
            ("modules:0:config:teams:core:0", "@alice:example.org"),
            ("modules:0:config:teams:core:1", "@bob:example.org")));
        UserId[] sample = [UserId.Parse("@alice:example.org"), UserId.Parse("@bob:example.org"), UserId.Parse("@zed:example.org")];

        Assert.Empty(await RouterConsistency.FindMismatchesAsync(h.Pipeline, sample, static u => Online(u.ToString())));
    }

    /// <summary>A minimal fake of <see cref="IModuleApi"/> that keeps what the module registers.</summary>
    private sealed class RecordingModuleApi : IModuleApi
    {
        public GetUsersForStatesCallback? GetUsersForStates { get; private set; }

        public GetInterestedUsersCallback? GetInterestedUsers { get; private set; }

        public IReadOnlyCollection<ServerName> LocalServerNames { get; } = [ServerName.Parse("example.org")];

        public ILoggerFactory LoggerFactory => NullLoggerFactory.Instance;

        public TimeProvider TimeProvider => TimeProvider.System;

        public void RegisterPresenceRouterCallbacks(GetUsersForStatesCallback? getUsersForStates = null, GetInterestedUsersCallback? getInterestedUsers = null)
        {
            GetUsersForStates = getUsersForStates;
            GetInterestedUsers = getInterestedUsers;
        }

        public void RegisterRoomRecipientsReplacement(ReplaceRoomRecipientsCallback replaceRoomRecipients) => throw new NotSupportedException();

        public Task SendLocalOnlinePresenceToAsync(IEnumerable<string> userIds) => Task.CompletedTask;

        public Task SetPresenceForUsersAsync(IReadOnlyDictionary<string, PresenceUpdate> updates) => Task.CompletedTask;

        public bool IsMine(UserId userId) => LocalServerNames.Contains(userId.Server);

        public HttpClient HttpClient => throw new NotSupportedException();

        public UserId GetQualifiedUserId(string username) => throw new NotSupportedException();

        public Task<IReadOnlyList<UserId>> GetUsersInRoomAsync(string roomId) => throw new NotSupportedException();

        public Task<IReadOnlyList<string>> GetRoomsForUserAsync(UserId userId) => throw new NotSupportedException();

        public IDisposable LoopingBackgroundCall(Func<CancellationToken, Task> callback, TimeSpan interval) => throw new NotSupportedException();

        public IDisposable DelayedBackgroundCall(TimeSpan delay, Func<CancellationToken, Task> callback) => throw new NotSupportedException();
    }
}
