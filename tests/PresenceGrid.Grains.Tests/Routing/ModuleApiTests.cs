using PresenceGrid.Matrix;
using PresenceGrid.Modules;
using PresenceGrid.Routing.Tests.Infrastructure;
using static PresenceGrid.Routing.Tests.Infrastructure.TestData;

namespace PresenceGrid.Routing.Tests;

public sealed class ModuleApiTests : IDisposable
{
    private readonly RouterHarness _h = new();

    public void Dispose() => _h.Dispose();

    [Fact]
    public void GetQualifiedUserId_QualifiesALocalpart_AndKeepsAUserId()
    {
        IModuleApi api = _h.Api("M");

        Assert.Equal(U("@alice:example.org"), api.GetQualifiedUserId("alice"));
        Assert.Equal(U("@bob:remote.example"), api.GetQualifiedUserId("@bob:remote.example"));
        Assert.Throws<ArgumentException>(() => api.GetQualifiedUserId("not a localpart"));
        Assert.Throws<ArgumentException>(() => api.GetQualifiedUserId("@no-server"));
    }

    [Fact]
    public async Task RoomMembership_WhoIsInARoom_AndWhichRoomsAUserIsIn()
    {
        IModuleApi api = _h.Api("M");
        _h.Operations.Members["!space:example.org"] = [U("@a:example.org"), U("@far:island")];
        _h.Operations.Members["!chat:example.org"] = [U("@a:example.org")];

        Assert.Equal([U("@a:example.org"), U("@far:island")], await api.GetUsersInRoomAsync("!space:example.org"));
        Assert.Empty(await api.GetUsersInRoomAsync("!unknown:example.org"));
        Assert.Equal(["!chat:example.org", "!space:example.org"], (await api.GetRoomsForUserAsync(U("@a:example.org"))).Order());
        Assert.Equal(["!space:example.org"], await api.GetRoomsForUserAsync(U("@far:island")));
        await Assert.ThrowsAsync<ArgumentException>(() => api.GetUsersInRoomAsync("space"));
    }

    [Fact]
    public void LoopingBackgroundCall_RunsEveryIntervalOnTheInjectedClock_SurvivesAThrow_AndStopsWhenDisposed()
    {
        IModuleApi api = _h.Api("M");
        var runs = 0;
        var loop = api.LoopingBackgroundCall(_ => ++runs == 2 ? throw new InvalidOperationException("boom") : Task.CompletedTask, TimeSpan.FromSeconds(10));

        _h.Clock.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(0, runs);
        for (var i = 1; i <= 3; i++)
        {
            _h.Clock.Advance(TimeSpan.FromSeconds(10));
            Assert.Equal(i, runs);
        }

        Assert.Contains(_h.Logs.Entries, e => e.EventId.Name == "ModuleBackgroundCallFailed" && e.Exception is InvalidOperationException);
        loop.Dispose();
        _h.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(3, runs);
    }

    [Fact]
    public async Task DelayedBackgroundCall_RunsOnce_UnlessDisposedFirst_AndHostShutdownCancelsTheToken()
    {
        IModuleApi api = _h.Api("M");
        var runs = 0;
        CancellationToken seen = default;
        api.DelayedBackgroundCall(TimeSpan.FromSeconds(5), ct =>
        {
            runs++;
            seen = ct;
            return Task.CompletedTask;
        });
        api.DelayedBackgroundCall(TimeSpan.FromSeconds(5), _ => Task.FromResult(runs += 100)).Dispose();
        var looping = 0;
        api.LoopingBackgroundCall(_ => Task.FromResult(++looping), TimeSpan.FromSeconds(5));

        // A looping call schedules its next run once the last one has finished (possibly on another thread), so the
        // clock moves one period at a time.
        for (int period = 1; period <= 4; period++)
        {
            _h.Clock.Advance(TimeSpan.FromSeconds(5));
            await PresenceGrid.Testing.Eventually.TrueAsync(() => Volatile.Read(ref looping) == period, $"looping run {period}");
        }

        Assert.Equal(1, runs);
        Assert.Equal(4, looping);

        _h.Host.Dispose();
        _h.Clock.Advance(TimeSpan.FromSeconds(20));
        Assert.True(seen.IsCancellationRequested);
        Assert.Equal(4, looping);
        Assert.Throws<ObjectDisposedException>(() => api.LoopingBackgroundCall(_ => Task.CompletedTask, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task HttpClient_IsOneSharedClient_OverTheHostsHandler()
    {
        using var handler = new RecordingHandler();
        using var host = new ModuleHost(_h.Operations, [ServerName.Parse("example.org")], _h.Logs, _h.Clock, handler);
        IModuleApi a = new ModuleApi(new ModuleIdentity("A", "modules[0]"), _h.Pipeline, host);
        IModuleApi b = new ModuleApi(new ModuleIdentity("B", "modules[1]"), _h.Pipeline, host);

        using var response = await a.HttpClient.GetAsync(new Uri("http://directory.example/spaces"));

        Assert.Same(a.HttpClient, b.HttpClient);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("http://directory.example/spaces", Assert.Single(handler.Requests).ToString());
    }

    private sealed class RecordingHandler : HttpMessageHandler
    {
        public List<Uri> Requests { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Add(request.RequestUri!);
            return Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.OK));
        }
    }

    [Fact]
    public async Task SendLocalOnlinePresenceTo_DelegatesDistinctParsedUsers_InOrder()
    {
        IModuleApi api = _h.Api("M");

        await api.SendLocalOnlinePresenceToAsync(["@g1:example.org", "@far_away_person:island", "@g1:example.org"]);

        var call = Assert.Single(_h.Operations.SendLocalOnlinePresenceToCalls);
        Assert.Equal([U("@g1:example.org"), U("@far_away_person:island")], call);
    }

    [Fact]
    public async Task SendLocalOnlinePresenceTo_InvalidUser_ThrowsArgumentException_AndSendsNothing()
    {
        IModuleApi api = _h.Api("M");

        var e = await Assert.ThrowsAsync<ArgumentException>(() => api.SendLocalOnlinePresenceToAsync(["@ok:example.org", "nope"]));

        Assert.Contains("'nope'", e.Message, StringComparison.Ordinal);
        Assert.Empty(_h.Operations.SendLocalOnlinePresenceToCalls);
    }

    [Fact]
    public async Task SendLocalOnlinePresenceTo_Empty_DoesNotCallTheGrainLayer()
    {
        await ((IModuleApi)_h.Api("M")).SendLocalOnlinePresenceToAsync([]);

        Assert.Empty(_h.Operations.SendLocalOnlinePresenceToCalls);
    }

    [Fact]
    public async Task SetPresenceForUsers_DelegatesParsedUpdates()
    {
        IModuleApi api = _h.Api("M");
        var update = new PresenceUpdate(PresenceState.Unavailable, "in a meeting");

        await api.SetPresenceForUsersAsync(new Dictionary<string, PresenceUpdate> { ["@a:example.org"] = update, ["@r:remote.example"] = update with { StatusMsg = null } });

        var call = Assert.Single(_h.Operations.SetPresenceForUsersCalls);
        Assert.Equal(update, call[U("@a:example.org")]);
        Assert.Null(call[U("@r:remote.example")].StatusMsg);
    }

    [Fact]
    public async Task SetPresenceForUsers_InvalidInput_ThrowsArgumentException()
    {
        IModuleApi api = _h.Api("M");

        await Assert.ThrowsAsync<ArgumentException>(() => api.SetPresenceForUsersAsync(
            new Dictionary<string, PresenceUpdate> { ["bad"] = new(PresenceState.Online, null) }));
        await Assert.ThrowsAsync<ArgumentException>(() => api.SetPresenceForUsersAsync(
            new Dictionary<string, PresenceUpdate> { ["@a:example.org"] = new((PresenceState)42, null) }));
        Assert.Empty(_h.Operations.SetPresenceForUsersCalls);
    }

    [Fact]
    public void HostServices_AreExposed()
    {
        IModuleApi api = _h.Api("M");

        Assert.True(api.IsMine(U("@a:example.org")));
        Assert.False(api.IsMine(U("@a:remote.example")));
        Assert.Equal([ServerName.Parse("example.org")], api.LocalServerNames);
        Assert.Same(_h.Clock, api.TimeProvider);
        Assert.Same(_h.Logs, api.LoggerFactory);
    }

    [Fact]
    public void InterestedUsers_Helpers()
    {
        Assert.Same(InterestedUsers.All, PresenceRouter.AllUsers);
        Assert.Equal("ALL", PresenceRouter.AllUsers.ToString());
        Assert.Same(InterestedUsers.None, InterestedUsers.FromUsers([]));
        Assert.Equal("2 users", InterestedUsers.FromUsers(["@a:x.org", "@b:x.org", "@a:x.org"]).ToString());
    }
}
