using Microsoft.Extensions.Configuration;
using PresenceGrid.Matrix;
using PresenceGrid.Modules;

namespace PresenceGrid.Grains.Tests;

/// <summary>§7 router scenarios 1 and 2, in both module styles, and the room-recipient replacement end to end.</summary>
public sealed class RouterScenarioTests
{
    private const string Gobbler = "@presence_gobbler:test";
    private const string U1 = "@user1:test";
    private const string U2 = "@user2:test";

    public static TheoryData<string> Styles => new() { "modules", "legacy" };

    private static Dictionary<string, string?> AlwaysSendTo(string style, params string[] users)
    {
        string prefix = style == "modules" ? "modules:0" : "presence:presence_router";
        var config = new Dictionary<string, string?> { [$"{prefix}:module"] = "PresenceGrid.Modules.AlwaysSendToUsersRouter" };
        for (int i = 0; i < users.Length; i++)
        {
            config[$"{prefix}:config:always_send_to_users:{i}"] = users[i];
        }

        return config;
    }

    [Fact]
    public async Task ModuleApi_RoomMembership_ReadsTheSilosMembershipView()
    {
        await using var silo = await PresenceTestSilo.StartWithModulesAsync(new Dictionary<string, string?>
        {
            ["modules:0:module"] = "PresenceGrid.Routing.Tests.Infrastructure.ApiCapturingModule, PresenceGrid.Grains.Tests",
            ["modules:0:config:probe"] = nameof(ModuleApi_RoomMembership_ReadsTheSilosMembershipView),
        });
        await silo.Join("!space:test", U1, U2, "@far:island");
        await silo.Join("!other:test", U1);
        await silo.Presence.SetMembershipAsync("!space:test", U2, "leave");
        IModuleApi api = Routing.Tests.Infrastructure.ApiCapturingModule.Apis[nameof(ModuleApi_RoomMembership_ReadsTheSilosMembershipView)];

        Assert.Equal(new[] { "@far:island", U1 }, (await api.GetUsersInRoomAsync("!space:test")).Select(u => u.ToString()).Order());
        Assert.Equal(new[] { "!other:test", "!space:test" }, (await api.GetRoomsForUserAsync(UserId.Parse(U1))).Order());
        Assert.Empty(await api.GetRoomsForUserAsync(UserId.Parse(U2)));
        Assert.Equal(UserId.Parse("@user1:test"), api.GetQualifiedUserId("user1"));
    }

    [Theory]
    [MemberData(nameof(Styles))]
    public async Task S1_ReceivingAllPresence(string style)
    {
        await using var silo = await PresenceTestSilo.StartWithModulesAsync(AlwaysSendTo(style, Gobbler));
        await silo.Join("!room:test", U1, U2);

        await silo.Put(U1, PresenceState.Online, "boop");
        var (initial, token) = await silo.Sync(Gobbler);
        var only = Assert.Single(initial);
        Assert.Equal((U1, PresenceState.Online, "boop"), (only.UserId.ToString(), only.State, only.StatusMsg));

        await silo.Put(U1, PresenceState.Online, "user_one");
        await silo.Put(U2, PresenceState.Online, "user_two");
        await silo.Put(Gobbler, PresenceState.Online, "presence_gobbler");
        var (incremental, _) = await silo.Sync(Gobbler, token);
        Assert.Equal(new[] { Gobbler, U1, U2 }.Order(), incremental.Select(e => e.UserId.ToString()).Order());

        var (u1Initial, _) = await silo.Sync(U1);
        Assert.Equal(new[] { U1, U2 }.Order(), u1Initial.Select(e => e.UserId.ToString()).Order());
        Assert.Equal("user_two", u1Initial.Single(e => e.UserId.ToString() == U2).StatusMsg);
    }

    [Theory]
    [MemberData(nameof(Styles))]
    public async Task S2_SendLocalOnlinePresenceTo_WithModule(string style)
    {
        const string G1 = "@gobbler1:test";
        const string G2 = "@gobbler2:test";
        const string O = "@other:test";
        const string Remote = "@far_away_person:island";
        await using var silo = await PresenceTestSilo.StartWithModulesAsync(AlwaysSendTo(style, G1, G2, Remote));
        await silo.Put(O, PresenceState.Online, "I'm online!");
        await silo.Put(G1, PresenceState.Online, "I'm also online!");
        await silo.Put(G2, PresenceState.Unavailable, "I'm in a meeting!");

        // Their clients keep syncing (open syncs), so the minutes below do not time them out.
        await silo.Presence.SetSyncingAsync(O, "dev", start: true);
        await silo.Presence.SetSyncingAsync(G1, "dev", start: true);
        await silo.Presence.SetSyncingAsync(G2, "dev", start: true, setPresence: "unavailable");

        await silo.Presence.SendLocalOnlinePresenceToAsync([G1, G2]);

        Assert.Equal([O], (await silo.Sync(O)).Events.Select(e => e.UserId.ToString()));
        Assert.Equal(3, (await silo.Sync(G1)).Events.Count);
        Assert.Equal(3, (await silo.Sync(G2)).Events.Count);

        await silo.AdvanceAsync(TimeSpan.FromSeconds(60));
        await silo.Presence.TakeOutgoingAsync("island", 100);
        await silo.Presence.SendLocalOnlinePresenceToAsync([Remote]);
        await silo.AdvanceAsync(TimeSpan.FromSeconds(60));
        var sent = (await silo.Presence.TakeOutgoingAsync("island", 100)).SelectMany(e => e.Push).ToList();

        Assert.Equal(new[] { G1, G2, O }.Order(), sent.Select(s => s.UserId.ToString()).Order());
        Assert.DoesNotContain(sent, s => s.State == PresenceState.Offline);
    }

    [Fact]
    public async Task RoutedChange_ToARemoteKey_IsFederatedToItsServer()
    {
        await using var silo = await PresenceTestSilo.StartWithModulesAsync(AlwaysSendTo("modules", "@watcher:island"));

        await silo.Put(U1, PresenceState.Online);
        await silo.Presence.DrainAsync();

        var sent = (await silo.Presence.TakeOutgoingAsync("island", 10)).SelectMany(e => e.Push);
        Assert.Equal([U1], sent.Select(s => s.UserId.ToString()));
    }

    [Fact]
    public async Task PairRouter_RoutesSendersToReceiver_WithoutASharedRoom()
    {
        await using var silo = await PresenceTestSilo.StartWithModulesAsync(new Dictionary<string, string?>
        {
            ["modules:0:module"] = "PresenceGrid.Modules.PairRouter",
            ["modules:0:config:routes:@alice:test:0"] = "@bob:test",
        });
        var (_, token) = await silo.Sync("@alice:test");

        await silo.Put("@bob:test", PresenceState.Online, "routed");
        await silo.Put("@carol:test", PresenceState.Online, "not routed");

        var (events, _) = await silo.Sync("@alice:test", token);
        Assert.Equal(["@bob:test"], events.Select(e => e.UserId.ToString()));
    }

    [Fact]
    public async Task ReplacementModule_KeepsPresenceOutOfBroadcastRooms()
    {
        await using var silo = await PresenceTestSilo.StartWithModulesAsync(new Dictionary<string, string?>
        {
            ["modules:0:module"] = $"{typeof(OnlyFriendsRecipients).FullName}, {typeof(OnlyFriendsRecipients).Assembly.GetName().Name}",
            ["modules:0:config:friend"] = U2,
        });
        await silo.Join("!broadcast:test", U1, U2, "@stranger:test");
        var (_, t2) = await silo.Sync(U2);
        var (_, tStranger) = await silo.Sync("@stranger:test");

        await silo.Put(U1, PresenceState.Online);

        Assert.Equal([U1], (await silo.Sync(U2, t2)).Events.Select(e => e.UserId.ToString()));
        Assert.Empty((await silo.Sync("@stranger:test", tStranger)).Events);
    }

    [Fact]
    public async Task ModuleCallbackTimeout_IsReadFromPresenceRouterSection_AndBadValuesNameTheKey()
    {
        var config = AlwaysSendTo("modules", Gobbler);
        config["presence:router:module_callback_timeout"] = "2s";
        await using var silo = await PresenceTestSilo.StartWithModulesAsync(config);
        var options = (Microsoft.Extensions.Options.IOptions<RouterOptions>)silo.Services.GetService(typeof(Microsoft.Extensions.Options.IOptions<RouterOptions>))!;
        Assert.Equal(TimeSpan.FromSeconds(2), options.Value.ModuleCallbackTimeout);

        config["presence:router:module_callback_timeout"] = "soon";
        var error = await Assert.ThrowsAsync<FormatException>(() => PresenceTestSilo.StartWithModulesAsync(config));
        Assert.Contains("presence.router.module_callback_timeout", error.Message);
    }

    [Fact]
    public async Task BadModuleConfig_StopsStartup_NamingModuleAndLocation()
    {
        var error = await Assert.ThrowsAsync<ModuleLoadException>(() => PresenceTestSilo.StartWithModulesAsync(new Dictionary<string, string?>
        {
            ["modules:0:module"] = "PresenceGrid.Modules.AlwaysSendToUsersRouter",
            ["modules:0:config:always_send_to_users:0"] = "not-an-mxid",
        }));

        Assert.Contains("AlwaysSendToUsersRouter", error.Message);
        Assert.Contains("modules[0]", error.Message);
        Assert.Contains("not-an-mxid", error.Message);
    }
}

/// <summary>Test module: every sender's room-based recipients are replaced by one friend (and self is kept by the grid).</summary>
public sealed class OnlyFriendsRecipients
{
    private readonly string _friend;

    public OnlyFriendsRecipients(IConfiguration config, IModuleApi api)
    {
        _friend = config["friend"] ?? throw new ModuleConfigException("friend", "friend is required");
        api.RegisterRoomRecipientsReplacement(Replace);
    }

    private Task<IReadOnlyDictionary<string, IReadOnlySet<string>>?> Replace(IReadOnlyList<UserPresenceState> states) =>
        Task.FromResult<IReadOnlyDictionary<string, IReadOnlySet<string>>?>(
            states.ToDictionary(s => s.UserId.ToString(), IReadOnlySet<string> (_) => new HashSet<string> { _friend }));
}
