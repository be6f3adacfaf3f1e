using PresenceGrid.Matrix;
using PresenceGrid.Modules;
using PresenceGrid.Routing.Tests.Infrastructure;
using static PresenceGrid.Routing.Tests.Infrastructure.TestData;

namespace PresenceGrid.Routing.Tests;

public sealed class PairRouterTests : IDisposable
{
    private const string TypeName = "PresenceGrid.Modules.PairRouter";
    private readonly RouterHarness _h = new();

    public void Dispose() => _h.Dispose();

    // IConfiguration flattens the receiver key "@bob:example.org" into the path segments "@bob" and "example.org".
    private void Load() => _h.Load(Config(
        ("modules:0:module", TypeName),
        ("modules:0:config:routes:@bob:example.org:0", "@alice:example.org"),
        ("modules:0:config:routes:@bob:example.org:1", "@carol:remote.example:8448"),
        ("modules:0:config:routes:@dave:remote.example:8448:0", "@alice:example.org")));

    [Fact]
    public async Task GetUsersForStates_GivesEachReceiverTheStatesOfItsSenders()
    {
        Load();
        var (alice, carol, eve) = (S("@alice:example.org"), S("@carol:remote.example:8448"), S("@eve:example.org"));

        var result = await _h.Pipeline.GetUsersForStatesAsync([alice, carol, eve]);

        Assert.Equal(2, result.Count);
        Assert.Equal(["@alice:example.org", "@carol:remote.example:8448"], Senders(result[U("@bob:example.org")]).Order());
        Assert.Equal(["@alice:example.org"], Senders(result[U("@dave:remote.example:8448")]));
    }

    [Fact]
    public async Task GetInterestedUsers_IsTheReceiversSenders()
    {
        Load();

        var bob = await _h.Pipeline.GetInterestedUsersAsync(U("@bob:example.org"));
        var alice = await _h.Pipeline.GetInterestedUsersAsync(U("@alice:example.org"));

        Assert.Equal(["@alice:example.org", "@carol:remote.example:8448"], bob.Users.Select(static u => u.ToString()).Order());
        Assert.Empty(alice.Users);
    }

    [Fact]
    public async Task TheTwoCallbacks_LineUp()
    {
        Load();
        UserId[] sample = [U("@alice:example.org"), U("@bob:example.org"), U("@carol:remote.example:8448"), U("@dave:remote.example:8448"), U("@eve:example.org")];

        Assert.Empty(await RouterConsistency.FindMismatchesAsync(_h.Pipeline, sample, static u => S(u.ToString())));
    }

    [Fact]
    public void ParseConfig_ReadsReceiversWithPorts()
    {
        var config = PairRouter.ParseConfig(Config(("routes:@dave:remote.example:8448:0", "@alice:example.org")));

        var (receiver, senders) = Assert.Single(config.Routes);
        Assert.Equal(U("@dave:remote.example:8448"), receiver);
        Assert.Equal([U("@alice:example.org")], senders);
    }

    [Fact]
    public void ParseConfig_BadSender_NamesKeyAndValue()
    {
        var e = Assert.Throws<ModuleConfigException>(() => PairRouter.ParseConfig(Config(
            ("routes:@bob:example.org:0", "@alice:example.org"),
            ("routes:@bob:example.org:1", "carol"))));

        Assert.Contains("routes[\"@bob:example.org\"][1]: 'carol' is not a valid Matrix user id", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseConfig_BadReceiver_NamesIt()
    {
        var e = Assert.Throws<ModuleConfigException>(() => PairRouter.ParseConfig(Config(("routes:bob:0", "@alice:example.org"))));

        Assert.Contains("receiver 'bob' is not a valid Matrix user id", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseConfig_SingleSenderInsteadOfList_Fails()
    {
        var e = Assert.Throws<ModuleConfigException>(() => PairRouter.ParseConfig(Config(("routes:@bob:example.org", "@alice:example.org"))));

        Assert.Contains("must be a list of sender user ids", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseConfig_UnknownKey_Fails()
    {
        var e = Assert.Throws<ModuleConfigException>(() => PairRouter.ParseConfig(Config(("route:@bob:example.org:0", "@alice:example.org"))));

        Assert.Equal("route", e.Key);
    }

    [Fact]
    public void ParseConfig_ConfigsCompareByValue()
    {
        var a = PairRouter.ParseConfig(Config(("routes:@bob:example.org:0", "@alice:example.org")));
        var b = PairRouter.ParseConfig(Config(("routes:@bob:example.org:0", "@alice:example.org")));
        var c = PairRouter.ParseConfig(Config(("routes:@bob:example.org:0", "@carol:example.org")));

        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }
}
