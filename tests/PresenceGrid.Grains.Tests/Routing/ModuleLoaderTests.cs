using PresenceGrid.Matrix;
using PresenceGrid.Modules;
using PresenceGrid.Routing.Tests.Infrastructure;
using static PresenceGrid.Routing.Tests.Infrastructure.TestData;

namespace PresenceGrid.Routing.Tests;

public sealed class ModuleLoaderTests : IDisposable
{
    private const string Ns = "PresenceGrid.Routing.Tests.Infrastructure.";
    private const string Asm = ", PresenceGrid.Grains.Tests";
    private readonly RouterHarness _h = new();

    public void Dispose() => _h.Dispose();

    private static string T(string name) => Ns + name + Asm;

    [Fact]
    public void ReadConfiguration_ReadsSynapseShape()
    {
        var root = Config(
            ("modules:0:module", "A.B"),
            ("modules:0:config:x", "1"),
            ("modules:1:module", "C.D, E"),
            ("presence:presence_router:module", "Legacy.Router"),
            ("presence:presence_router:config:y", "2"));

        var (modules, legacy) = ModuleLoader.ReadConfiguration(root);

        Assert.Equal(["A.B", "C.D, E"], modules.Select(static m => m.TypeName));
        Assert.Equal("1", modules[0].Config["x"]);
        Assert.False(modules[1].Config.GetChildren().Any());
        Assert.NotNull(legacy);
        Assert.Equal("Legacy.Router", legacy.TypeName);
        Assert.Equal("2", legacy.Config["y"]);
    }

    [Fact]
    public void TreeModule_GetsItsConfigWhole_MxidKeysTypedScalarsAndEmptyLists()
    {
        var tree = System.Text.Json.Nodes.JsonNode.Parse("""
            {"modules": [{"module": "X", "config": {}}, {"module": "%T%", "config": {
              "pairs": {"@alice:example.org": "@bob:example.org", "@carol:example.org:8448": ["@dave:island"]},
              "enabled": true, "count": 3, "ratio": 0.5, "nothing": null, "empty": [], "none_map": {}, "quoted": "true"}}]}
            """.Replace("%T%", T(nameof(TreeConfigModule)), StringComparison.Ordinal))!.AsObject();
        ((System.Text.Json.Nodes.JsonArray)tree["modules"]!).RemoveAt(0);

        var loaded = Assert.Single(_h.Load(PresenceModuleConfiguration.FromTree(tree)));

        var config = ((TreeConfigModule)loaded.Instance).Config;
        var pairs = config["pairs"]!.AsObject();
        Assert.Equal(["@alice:example.org", "@carol:example.org:8448"], pairs.Select(p => p.Key));
        Assert.Equal("@bob:example.org", pairs["@alice:example.org"]!.GetValue<string>());
        Assert.Equal("@dave:island", Assert.Single(pairs["@carol:example.org:8448"]!.AsArray())!.GetValue<string>());
        Assert.True(config["enabled"]!.GetValue<bool>());
        Assert.Equal(3, config["count"]!.GetValue<int>());
        Assert.Equal(0.5, config["ratio"]!.GetValue<double>());
        Assert.True(config.ContainsKey("nothing"));
        Assert.Null(config["nothing"]);
        Assert.Empty(config["empty"]!.AsArray());
        Assert.Empty(config["none_map"]!.AsObject());
        Assert.Equal(System.Text.Json.JsonValueKind.String, config["quoted"]!.GetValueKind());

        // A private copy: what one module changes, no other module (and no reload) sees.
        config.Remove("pairs");
        Assert.NotNull(tree["modules"]![0]!["config"]!["pairs"]);
    }

    [Fact]
    public void TreeParseConfig_IsPreferred_AndFlattenedKeysStillServeIConfigurationModules()
    {
        var tree = System.Text.Json.Nodes.JsonNode.Parse("""
            {"modules": [
              {"module": "%P%", "config": {"pairs": {"@a:example.org": "@b:example.org"}}},
              {"module": "PresenceGrid.Modules.AlwaysSendToUsersRouter", "config": {"always_send_to_users": ["@g:example.org"], "blacklisted_users": []}}]}
            """.Replace("%P%", T(nameof(TreeParseConfigModule)), StringComparison.Ordinal))!.AsObject();

        var loaded = _h.Load(PresenceModuleConfiguration.FromTree(tree));

        Assert.Equal("@b:example.org", ((TreeParseConfigModule)loaded[0].Instance).Pairs["@a:example.org"]);
        var router = (AlwaysSendToUsersRouter)loaded[1].Instance;
        Assert.Equal([U("@g:example.org")], router.Config.AlwaysSendToUsers);
        Assert.Empty(router.Config.BlacklistedUsers);
    }

    [Fact]
    public void TreeModule_FromPlainConfigurationKeys_GetsStringScalars_AndListsRebuilt()
    {
        var root = Config(
            ("modules:0:module", T(nameof(TreeConfigModule))),
            ("modules:0:config:users:0", "@a:example.org"),
            ("modules:0:config:users:1", "@b:example.org"),
            ("modules:0:config:limit", "5"));

        var config = ((TreeConfigModule)Assert.Single(_h.Load(root)).Instance).Config;

        Assert.Equal(["@a:example.org", "@b:example.org"], config["users"]!.AsArray().Select(u => u!.GetValue<string>()));
        Assert.Equal("5", config["limit"]!.GetValue<string>());
    }

    [Fact]
    public void TreeModule_WithANonMappingConfig_Fails_NamingTheModule()
    {
        var tree = System.Text.Json.Nodes.JsonNode.Parse($$"""{"modules": [{"module": "{{T(nameof(TreeConfigModule))}}", "config": ["x"]}]}""")!.AsObject();

        var e = Assert.Throws<ModuleLoadException>(() => _h.Load(PresenceModuleConfiguration.FromTree(tree)));

        Assert.Equal("modules[0]", e.ConfigLocation);
        Assert.Contains("must be a mapping", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadConfiguration_EntryWithoutModule_Fails_NamingTheLocation()
    {
        var root = Config(("modules:0:module", "A.B"), ("modules:1:config:x", "1"));

        var e = Assert.Throws<ModuleLoadException>(() => ModuleLoader.ReadConfiguration(root));

        Assert.Equal("modules[1]", e.ConfigLocation);
        Assert.Contains("'module' is missing", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownType_Fails_NamingTypeAndLocation()
    {
        var root = Config(("modules:0:module", T(nameof(ProbeRouter))), ("modules:1:module", "PresenceGrid.Modules.NoSuchRouter"));

        var e = Assert.Throws<ModuleLoadException>(() => _h.Load(root));

        Assert.Equal("PresenceGrid.Modules.NoSuchRouter", e.ModuleType);
        Assert.Equal("modules[1]", e.ConfigLocation);
        Assert.StartsWith("Cannot load module 'PresenceGrid.Modules.NoSuchRouter' (modules[1]): unknown type", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownAssembly_Fails_AsUnknownType()
    {
        var e = Assert.Throws<ModuleLoadException>(() => _h.Load(Config(("modules:0:module", "My.Router, My.Missing.Assembly"))));

        Assert.Contains("unknown type", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NoSuitableConstructor_Fails()
    {
        var e = Assert.Throws<ModuleLoadException>(() => _h.Load(Config(("modules:0:module", T(nameof(BadConstructorModule))))));

        Assert.Equal(Ns + nameof(BadConstructorModule), e.ModuleType);
        Assert.Contains("no suitable constructor", e.Message, StringComparison.Ordinal);
        Assert.Contains("(IConfiguration config, IModuleApi api)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseConfigFailure_Fails_WithItsMessage()
    {
        var root = Config(("modules:0:module", T(nameof(ParseConfigThrowsModule))), ("modules:0:config:threshold", "-3"));

        var e = Assert.Throws<ModuleLoadException>(() => _h.Load(root));

        Assert.Equal("modules[0]", e.ConfigLocation);
        Assert.Contains("ParseConfig threw ModuleConfigException: threshold: '-3' must be a positive integer.", e.Message, StringComparison.Ordinal);
        Assert.IsType<ModuleConfigException>(e.InnerException);
    }

    [Fact]
    public void ParseConfigWithoutTypedConstructor_Fails()
    {
        var e = Assert.Throws<ModuleLoadException>(() => _h.Load(Config(("modules:0:module", T(nameof(ParseConfigWithoutTypedConstructorModule))))));

        Assert.Contains("no suitable constructor", e.Message, StringComparison.Ordinal);
        Assert.Contains("(LegacyRouterConfig config, IModuleApi api)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ThrowingConstructor_Fails_WithItsMessage()
    {
        var e = Assert.Throws<ModuleLoadException>(() => _h.Load(Config(("modules:0:module", T(nameof(ThrowingConstructorModule))))));

        Assert.Contains("constructor threw InvalidOperationException: database unreachable", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RegisteringOnlyOneCallback_FailsStartUp_NamingTheModule()
    {
        var root = Config(("modules:0:module", T(nameof(ProbeRouter))), ("modules:1:module", T(nameof(OneCallbackModule))));

        var e = Assert.Throws<ModuleLoadException>(() => _h.Load(root));

        Assert.Equal(Ns + nameof(OneCallbackModule), e.ModuleType);
        Assert.Equal("modules[1]", e.ConfigLocation);
        Assert.Contains("register both callbacks or neither", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LegacyRouter_RunsAfterNewStyleModules()
    {
        // The legacy section comes first in the file; it still runs last.
        var probe = CallProbe.NewId();
        var root = Config(
            ("presence:presence_router:module", T(nameof(LegacySyncRouter))),
            ("presence:presence_router:config:probe", probe),
            ("presence:presence_router:config:interest", "@l:example.org"),
            ("modules:0:module", T(nameof(ProbeRouter))),
            ("modules:0:config:probe", probe),
            ("modules:0:config:name", "first"),
            ("modules:1:module", T(nameof(ProbeRouter))),
            ("modules:1:config:probe", probe),
            ("modules:1:config:name", "second"));

        var loaded = _h.Load(root);
        await _h.Pipeline.GetUsersForStatesAsync([S("@a:example.org")]);
        var interest = await _h.Pipeline.GetInterestedUsersAsync(U("@me:example.org"));

        Assert.Equal(["modules[0]", "modules[1]", "presence.presence_router"], loaded.Select(static m => m.Identity.Location));
        Assert.Equal(["modules[0]", "modules[1]", "presence.presence_router"], _h.Pipeline.PresenceRouterModules.Select(static m => m.Location));
        Assert.Equal(
            ["first:get_users_for_states", "second:get_users_for_states", "legacy:get_users_for_states",
             "first:get_interested_users", "second:get_interested_users", "legacy:get_interested_users"],
            CallProbe.Of(probe));
        Assert.Equal([U("@l:example.org")], interest.Users);
    }

    [Fact]
    public async Task NewStyleAll_ShortCircuitsBeforeTheLegacyRouter()
    {
        var probe = CallProbe.NewId();
        var root = Config(
            ("modules:0:module", T(nameof(ProbeRouter))),
            ("modules:0:config:probe", probe),
            ("modules:0:config:interest", "ALL"),
            ("presence:presence_router:module", T(nameof(LegacySyncRouter))),
            ("presence:presence_router:config:probe", probe));
        _h.Load(root);

        var interest = await _h.Pipeline.GetInterestedUsersAsync(U("@me:example.org"));

        Assert.True(interest.IsAll);
        Assert.DoesNotContain("legacy:get_interested_users", CallProbe.Of(probe));
    }

    [Fact]
    public async Task LegacySyncMethods_AreWrapped_DictionaryOfHashSetsAndAllString()
    {
        var s = S("@a:example.org");
        _h.Load(Config(
            ("presence:presence_router:module", T(nameof(LegacySyncRouter))),
            ("presence:presence_router:config:route_to", "@watcher:example.org"),
            ("presence:presence_router:config:interest", "ALL")));

        var routed = await _h.Pipeline.GetUsersForStatesAsync([s]);
        var interest = await _h.Pipeline.GetInterestedUsersAsync(U("@watcher:example.org"));

        Assert.Equal([s], routed[U("@watcher:example.org")]);
        Assert.True(interest.IsAll);
    }

    [Fact]
    public async Task LegacyListResult_IsNotASet_AndIsIgnored()
    {
        _h.Load(Config(("presence:presence_router:module", T(nameof(LegacySyncRouter))), ("presence:presence_router:config:interest", "list")));

        var interest = await _h.Pipeline.GetInterestedUsersAsync(U("@me:example.org"));

        Assert.Empty(interest.Users);
        Assert.Single(_h.Metrics.Failures(RoutingInstruments.KindMalformed));
    }

    [Fact]
    public async Task LegacyWithParseConfig_IsConstructedWithTheTypedConfig()
    {
        var s = S("@a:example.org");
        var loaded = _h.Load(Config(
            ("presence:presence_router:module", T(nameof(LegacyParseConfigRouter))),
            ("presence:presence_router:config:watcher", "@watcher:example.org")));

        var router = Assert.IsType<LegacyParseConfigRouter>(Assert.Single(loaded).Instance);
        Assert.Equal(U("@watcher:example.org"), router.Config.Watcher);
        Assert.Equal([s], (await _h.Pipeline.GetUsersForStatesAsync([s]))[U("@watcher:example.org")]);
        Assert.True((await _h.Pipeline.GetInterestedUsersAsync(U("@watcher:example.org"))).IsAll);
        Assert.False((await _h.Pipeline.GetInterestedUsersAsync(U("@other:example.org"))).IsAll);
    }

    [Fact]
    public void LegacyWithParseConfig_BadConfig_FailsAtTheLegacyLocation()
    {
        var e = Assert.Throws<ModuleLoadException>(() => _h.Load(Config(
            ("presence:presence_router:module", T(nameof(LegacyParseConfigRouter))),
            ("presence:presence_router:config:watcher", "watcher"))));

        Assert.Equal("presence.presence_router", e.ConfigLocation);
        Assert.Contains("watcher: 'watcher' is not a valid Matrix user id.", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LegacyMissingOneMethod_Fails()
    {
        var e = Assert.Throws<ModuleLoadException>(() => _h.Load(Config(("presence:presence_router:module", T(nameof(LegacyHalfRouter))))));

        Assert.Equal("presence.presence_router", e.ConfigLocation);
        Assert.Contains("defines GetUsersForStates(Async) but not GetInterestedUsers(Async)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LegacyMethodWithUnsupportedSignature_Fails()
    {
        var e = Assert.Throws<ModuleLoadException>(() => _h.Load(Config(("presence:presence_router:module", T(nameof(LegacyBadSignatureRouter))))));

        Assert.Contains("method GetInterestedUsers has an unsupported signature", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_SealsThePipeline()
    {
        var loaded = _h.Load(Config(("modules:0:module", T(nameof(KeepsApiModule)))));
        var module = Assert.IsType<KeepsApiModule>(Assert.Single(loaded).Instance);

        Assert.Throws<InvalidOperationException>(() => module.Api.RegisterPresenceRouterCallbacks(NoRoutes, NoInterest));
    }

    [Fact]
    public void Loading_LogsEachModule()
    {
        _h.Load(Config(("modules:0:module", T(nameof(ProbeRouter)))));

        Assert.Contains(_h.Logs.Entries, static e => e.EventId.Id == 3100 && e.Message.Contains("modules[0]", StringComparison.Ordinal));
    }

    [Fact]
    public void LegacyConverters_FollowSynapsesTypeRules()
    {
        var s = S("@a:example.org");
        Assert.Null(LegacyRouterAdapter.ConvertUsersForStates(new List<UserPresenceState> { s }));
        Assert.Null(LegacyRouterAdapter.ConvertInterestedUsers("all"));
        Assert.Null(LegacyRouterAdapter.ConvertInterestedUsers(new[] { "@a:example.org" }));
        Assert.Same(InterestedUsers.All, LegacyRouterAdapter.ConvertInterestedUsers("ALL"));

        // A value that is not a set stops there: the first entry survives, the bad one is kept as an invalid (null) entry, the rest is cut.
        var converted = LegacyRouterAdapter.ConvertUsersForStates(new Dictionary<string, object>
        {
            ["@x:example.org"] = new HashSet<UserPresenceState> { s },
            ["@y:example.org"] = new List<UserPresenceState> { s },
            ["@z:example.org"] = new HashSet<UserPresenceState> { s },
        });
        Assert.NotNull(converted);
        Assert.Equal(["@x:example.org", "@y:example.org"], converted.Select(static e => e.Key));
        Assert.Null(converted["@y:example.org"]);
    }
}
