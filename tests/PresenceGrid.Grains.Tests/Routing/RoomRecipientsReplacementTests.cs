using PresenceGrid.Modules;
using PresenceGrid.Routing.Tests.Infrastructure;
using static PresenceGrid.Routing.Tests.Infrastructure.TestData;

namespace PresenceGrid.Routing.Tests;

public sealed class RoomRecipientsReplacementTests : IDisposable
{
    private readonly RouterHarness _h = new();

    public void Dispose() => _h.Dispose();

    private static ReplaceRoomRecipientsCallback Replace(params (string Sender, string[]? Recipients)[] entries) => _ =>
    {
        var result = new Dictionary<string, IReadOnlySet<string>>();
        foreach (var (sender, recipients) in entries)
        {
            result[sender] = recipients is null ? null! : new HashSet<string>(recipients);
        }

        return Task.FromResult<IReadOnlyDictionary<string, IReadOnlySet<string>>?>(result);
    };

    [Fact]
    public async Task Off_UnlessAModuleRegistersIt()
    {
        _h.AddRouter("Router", NoRoutes, NoInterest);

        Assert.False(_h.Pipeline.HasRoomRecipientsReplacement);
        Assert.Empty(await _h.Pipeline.ReplaceRoomRecipientsAsync([S("@alice:example.org")]));
    }

    [Fact]
    public async Task Loaded_Module_ReplacesOnlyTheSendersItLists()
    {
        _h.Load(Config(("modules:0:module", "PresenceGrid.Routing.Tests.Infrastructure.ReplacementModule, PresenceGrid.Grains.Tests")));

        var result = await _h.Pipeline.ReplaceRoomRecipientsAsync([S("@alice:example.org"), S("@zed:example.org")]);

        Assert.True(_h.Pipeline.HasRoomRecipientsReplacement);
        var (sender, recipients) = Assert.Single(result);
        Assert.Equal(U("@alice:example.org"), sender);
        Assert.Equal([U("@bob:example.org")], recipients);
    }

    [Fact]
    public async Task SeveralModules_AreUnitedPerSender_AnEmptySetMeansNobody()
    {
        _h.Api("A").RegisterRoomRecipientsReplacement(Replace(("@alice:example.org", ["@bob:example.org"]), ("@zed:example.org", [])));
        _h.Api("B").RegisterRoomRecipientsReplacement(Replace(("@alice:example.org", ["@carol:example.org"])));

        var result = await _h.Pipeline.ReplaceRoomRecipientsAsync([S("@alice:example.org"), S("@zed:example.org")]);

        Assert.Equal(["@bob:example.org", "@carol:example.org"], result[U("@alice:example.org")].Select(static u => u.ToString()).Order());
        Assert.Empty(result[U("@zed:example.org")]);
    }

    [Fact]
    public async Task Failures_AreSkippedAndCounted_LikeTheRouterCallbacks()
    {
        var never = new TaskCompletionSource<IReadOnlyDictionary<string, IReadOnlySet<string>>?>();
        _h.Api("Thrower").RegisterRoomRecipientsReplacement(_ => throw new InvalidOperationException("boom"));
        _h.Api("Slow").RegisterRoomRecipientsReplacement(_ => never.Task);
        _h.Api("Partial").RegisterRoomRecipientsReplacement(Replace(("@alice:example.org", ["@bob:example.org", "junk"]), ("bad", ["@x:example.org"]), ("@zed:example.org", ["@x:example.org"])));

        var pending = _h.Pipeline.ReplaceRoomRecipientsAsync([S("@alice:example.org")]);
        _h.Clock.Advance(TimeSpan.FromSeconds(1));
        var result = await pending;

        var (sender, recipients) = Assert.Single(result);
        Assert.Equal(U("@alice:example.org"), sender);
        Assert.Equal([U("@bob:example.org")], recipients);
        Assert.Single(_h.Metrics.Failures(RoutingInstruments.KindException, "Thrower"));
        Assert.Single(_h.Metrics.Failures(RoutingInstruments.KindTimeout, "Slow"));
        // One for the invalid key (stops the rest), one for the dropped invalid recipient.
        Assert.Equal(2, _h.Metrics.Failures(RoutingInstruments.KindMalformed, "Partial").Count);
        Assert.All(_h.Metrics.Failures(), static f => Assert.Equal("replace_room_recipients", f.Tags["callback"]));
    }
}
