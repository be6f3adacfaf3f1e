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
