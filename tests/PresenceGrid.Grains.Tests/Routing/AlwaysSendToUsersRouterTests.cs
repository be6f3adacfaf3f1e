using PresenceGrid.Matrix;
using PresenceGrid.Modules;
using PresenceGrid.Routing.Tests.Infrastructure;
using static PresenceGrid.Routing.Tests.Infrastructure.TestData;

namespace PresenceGrid.Routing.Tests;

public sealed class AlwaysSendToUsersRouterTests : IDisposable
{
    private const string TypeName = "PresenceGrid.Modules.AlwaysSendToUsersRouter";
    private readonly RouterHarness _h = new();

    public void Dispose() => _h.Dispose();

    private IReadOnlyList<LoadedModule> LoadNewStyle() => _h.Load(Config(
        ("modules:0:module", TypeName),
        ("modules:0:config:always_send_to_users:0", "@presence_gobbler:example.org"),
        ("modules:0:config:always_send_to_users:1", "@far_away_person:island"),
        ("modules:0:config:blacklisted_users:0", "@secret:example.org")));

    [Fact]
    public async Task GetUsersForStates_MapsEveryListedUserToAllNonBlacklistedStates()
    {
        LoadNewStyle();
        var (u1, u2, secret) = (S("@user_one:example.org", status: "boop"), S("@user_two:remote.example"), S("@secret:example.org"));

        var result = await _h.Pipeline.GetUsersForStatesAsync([u1, u2, secret]);

        Assert.Equal(2, result.Count);
        Assert.Equal(["@user_one:example.org", "@user_two:remote.example"], Senders(result[U("@presence_gobbler:example.org")]).Order());
        Assert.Equal(["@user_one:example.org", "@user_two:remote.example"], Senders(result[U("@far_away_person:island")]).Order());
    }

    [Fact]
    public async Task GetInterestedUsers_IsAllForListedUsers_ElseEmpty()
    {
        LoadNewStyle();

        Assert.True((await _h.Pipeline.GetInterestedUsersAsync(U("@presence_gobbler:example.org"))).IsAll);
        var other = await _h.Pipeline.GetInterestedUsersAsync(U("@user_one:example.org"));
        Assert.False(other.IsAll);
        Assert.Empty(other.Users);
    }

    [Fact]
    public async Task OnlyBlacklistedStates_StillGiveAnEntryPerListedUser_AsInSynapsesExample()
    {
        LoadNewStyle();

        var result = await _h.Pipeline.GetUsersForStatesAsync([S("@secret:example.org")]);

        Assert.Empty(result[U("@presence_gobbler:example.org")]);
    }

    [Fact]
    public async Task TheTwoCallbacks_LineUp()
    {
        LoadNewStyle();
        UserId[] sample = [U("@presence_gobbler:example.org"), U("@user_one:example.org"), U("@user_two:example.org"), U("@secret:example.org")];

        var mismatches = await RouterConsistency.FindMismatchesAsync(_h.Pipeline, sample, static u => S(u.ToString()));

        Assert.Empty(mismatches);
    }

    [Fact]
    public async Task LegacyStyle_Works_AndRegistersOnce()
    {
        var loaded = _h.Load(Config(
            ("presence:presence_router:module", TypeName),
            ("presence:presence_router:config:always_send_to_users:0", "@presence_gobbler:example.org")));

        Assert.IsType<AlwaysSendToUsersRouter>(Assert.Single(loaded).Instance);
        Assert.Equal(["presence.presence_router"], _h.Pipeline.PresenceRouterModules.Select(static m => m.Location));
        Assert.Contains(_h.Logs.Entries, static e => e.EventId.Id == 3101);
        var s = S("@user_one:example.org");
        Assert.Equal([s], (await _h.Pipeline.GetUsersForStatesAsync([s]))[U("@presence_gobbler:example.org")]);
        Assert.True((await _h.Pipeline.GetInterestedUsersAsync(U("@presence_gobbler:example.org"))).IsAll);
    }

    [Fact]
    public void ParseConfig_BadMxid_NamesKeyAndValue()
    {
        var config = Config(("always_send_to_users:0", "@ok:example.org"), ("always_send_to_users:1", "presence_gobbler"));

        var e = Assert.Throws<ModuleConfigException>(() => AlwaysSendToUsersRouter.ParseConfig(config));

        Assert.Equal("always_send_to_users[1]", e.Key);
        Assert.Contains("always_send_to_users[1]: 'presence_gobbler' is not a valid Matrix user id", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseConfig_BadBlacklistedMxid_NamesKeyAndValue()
    {
        var e = Assert.Throws<ModuleConfigException>(() => AlwaysSendToUsersRouter.ParseConfig(Config(("blacklisted_users:0", "@nohost"))));

        Assert.Contains("blacklisted_users[0]: '@nohost'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseConfig_ScalarInsteadOfList_Fails()
    {
        var e = Assert.Throws<ModuleConfigException>(() => AlwaysSendToUsersRouter.ParseConfig(Config(("always_send_to_users", "@a:example.org"))));

        Assert.Contains("must be a list", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseConfig_UnknownKey_Fails()
    {
        var e = Assert.Throws<ModuleConfigException>(() => AlwaysSendToUsersRouter.ParseConfig(Config(("blacklisted_user:0", "@a:example.org"))));

        Assert.Equal("blacklisted_user", e.Key);
    }

    [Fact]
    public void ParseConfig_EmptyConfig_IsValid_AndConfigsCompareByValue()
    {
        var empty = AlwaysSendToUsersRouter.ParseConfig(Config());
        Assert.Empty(empty.AlwaysSendToUsers);
        Assert.Empty(empty.BlacklistedUsers);

        var a = AlwaysSendToUsersRouter.ParseConfig(Config(("always_send_to_users:0", "@a:example.org")));
        var b = AlwaysSendToUsersRouter.ParseConfig(Config(("always_send_to_users:0", "@a:example.org")));
        Assert.Equal(a, b);
        Assert.NotEqual(a, empty);
    }

    [Fact]
    public void LoaderBadMxid_FailsStartUp_NamingModuleLocationKeyAndValue()
    {
        var e = Assert.Throws<ModuleLoadException>(() => _h.Load(Config(
            ("modules:0:module", TypeName),
            ("modules:0:config:always_send_to_users:0", "gobbler"))));

        Assert.Equal(TypeName, e.ModuleType);
        Assert.Contains("(modules[0])", e.Message, StringComparison.Ordinal);
        Assert.Contains("always_send_to_users[0]: 'gobbler' is not a valid Matrix user id (user id must start with '@').", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scenario1_ReceivingAllPresence_RouterPart()
    {
        // §7 scenario 1 (router part): G ∈ L shares no room with U1/U2, yet the router gives G every state, and G's interest is ALL.
        LoadNewStyle();
        var (u1, u2, g) = (S("@user_one:example.org", status: "user_one"), S("@user_two:example.org", status: "user_two"),
            S("@presence_gobbler:example.org", status: "presence_gobbler"));

        var routed = await _h.Pipeline.GetUsersForStatesAsync([u1, u2, g]);

        Assert.Equal(3, routed[U("@presence_gobbler:example.org")].Count);
        Assert.False(routed.ContainsKey(U("@user_one:example.org")));
        Assert.Empty((await _h.Pipeline.GetInterestedUsersAsync(U("@user_one:example.org"))).Users);
    }
}
