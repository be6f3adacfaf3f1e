using PresenceGrid.Modules;
using PresenceGrid.Routing.Tests.Infrastructure;
using static PresenceGrid.Routing.Tests.Infrastructure.TestData;

namespace PresenceGrid.Routing.Tests;

public sealed class GetInterestedUsersMergeTests : IDisposable
{
    private readonly RouterHarness _h = new();

    public void Dispose() => _h.Dispose();

    [Fact]
    public async Task NoCallbacks_ReturnsNone()
    {
        var result = await _h.Pipeline.GetInterestedUsersAsync(U("@me:example.org"));

        Assert.False(result.IsAll);
        Assert.Empty(result.Users);
    }

    [Fact]
    public async Task Sets_AreUnited_AndTheSyncingUserIsPassed()
    {
        string? asked = null;
        _h.AddRouter("A", NoRoutes, id =>
        {
            asked = id;
            return Task.FromResult<InterestedUsers?>(InterestedUsers.FromUsers(["@a:example.org", "@b:example.org"]));
        });
        _h.AddRouter("B", NoRoutes, Interest("@b:example.org", "@c:remote.example"));

        var result = await _h.Pipeline.GetInterestedUsersAsync(U("@me:example.org"));

        Assert.Equal("@me:example.org", asked);
        Assert.False(result.IsAll);
        Assert.Equal(["@a:example.org", "@b:example.org", "@c:remote.example"], result.Users.Select(static u => u.ToString()).Order());
    }

    [Fact]
    public async Task All_ShortCircuits_TheNextModuleIsNeverInvoked()
    {
        var laterCalls = 0;
        _h.AddRouter("A", NoRoutes, Interest("@a:example.org"));
        _h.AddRouter("All", NoRoutes, Interest(PresenceRouter.AllUsers));
        _h.AddRouter("Later", NoRoutes, _ =>
        {
            laterCalls++;
            return Task.FromResult<InterestedUsers?>(InterestedUsers.None);
        });

        var result = await _h.Pipeline.GetInterestedUsersAsync(U("@me:example.org"));

        Assert.True(result.IsAll);
        Assert.Same(RouterInterest.All, result);
        Assert.Equal(0, laterCalls);
    }

    [Fact]
    public async Task NullResult_IsIgnored_LikeANonSet()
    {
        _h.AddRouter("Null", NoRoutes, Interest((InterestedUsers?)null));
        _h.AddRouter("B", NoRoutes, Interest("@b:example.org"));

        var result = await _h.Pipeline.GetInterestedUsersAsync(U("@me:example.org"));

        Assert.Equal([U("@b:example.org")], result.Users);
        Assert.Single(_h.Metrics.Failures(RoutingInstruments.KindMalformed, "Null"));
    }

    [Fact]
    public async Task ThrowingAndSlowModules_AreSkipped()
    {
        var never = new TaskCompletionSource<InterestedUsers?>();
        _h.AddRouter("Thrower", NoRoutes, _ => throw new InvalidOperationException("boom"));
        _h.AddRouter("Slow", NoRoutes, _ => never.Task);
        _h.AddRouter("Good", NoRoutes, Interest("@b:example.org"));

        var pending = _h.Pipeline.GetInterestedUsersAsync(U("@me:example.org"));
        _h.Clock.Advance(TimeSpan.FromSeconds(1));
        var result = await pending;

        Assert.Equal([U("@b:example.org")], result.Users);
        Assert.Single(_h.Metrics.Failures(RoutingInstruments.KindException, "Thrower"));
        var timeout = Assert.Single(_h.Metrics.Failures(RoutingInstruments.KindTimeout, "Slow"));
        Assert.Equal("get_interested_users", timeout.Tags["callback"]);
    }

    [Fact]
    public async Task InvalidMxids_AreDroppedWithAWarning()
    {
        _h.AddRouter("Sloppy", NoRoutes, Interest("@ok:example.org", "nope", "@no-server"));

        var result = await _h.Pipeline.GetInterestedUsersAsync(U("@me:example.org"));

        Assert.Equal([U("@ok:example.org")], result.Users);
        var warning = Assert.Single(_h.Logs.Entries, static e => e.EventId.Id == 3004);
        Assert.Contains("2 invalid user ids", warning.Message, StringComparison.Ordinal);
        Assert.Single(_h.Metrics.Failures(RoutingInstruments.KindMalformed, "Sloppy"));
    }
}
