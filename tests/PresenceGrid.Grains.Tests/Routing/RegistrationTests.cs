using PresenceGrid.Modules;
using PresenceGrid.Routing.Tests.Infrastructure;
using static PresenceGrid.Routing.Tests.Infrastructure.TestData;

namespace PresenceGrid.Routing.Tests;

public sealed class RegistrationTests : IDisposable
{
    private readonly RouterHarness _h = new();

    public void Dispose() => _h.Dispose();

    [Fact]
    public void RegisteringOnlyGetUsersForStates_Fails_NamingTheModule()
    {
        var e = Assert.Throws<ModuleLoadException>(() =>
            _h.Api("My.Module", "modules[3]").RegisterPresenceRouterCallbacks(getUsersForStates: NoRoutes));

        Assert.Equal("My.Module", e.ModuleType);
        Assert.Equal("modules[3]", e.ConfigLocation);
        Assert.Contains("'My.Module' (modules[3])", e.Message, StringComparison.Ordinal);
        Assert.Contains("get_users_for_states without get_interested_users", e.Message, StringComparison.Ordinal);
        Assert.False(_h.Pipeline.HasPresenceRouter);
    }

    [Fact]
    public void RegisteringOnlyGetInterestedUsers_Fails()
    {
        var e = Assert.Throws<ModuleLoadException>(() =>
            _h.Api("My.Module").RegisterPresenceRouterCallbacks(getInterestedUsers: NoInterest));

        Assert.Contains("get_interested_users without get_users_for_states", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RegisteringNeither_IsAccepted_AndDoesNothing()
    {
        _h.Api("My.Module").RegisterPresenceRouterCallbacks();

        Assert.False(_h.Pipeline.HasPresenceRouter);
    }

    [Fact]
    public void RegisteringAfterSeal_Throws()
    {
        var api = _h.Api("Late.Module");
        _h.Pipeline.Seal();

        var e = Assert.Throws<InvalidOperationException>(() => api.RegisterPresenceRouterCallbacks(NoRoutes, NoInterest));
        Assert.Contains("Late.Module", e.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => api.RegisterRoomRecipientsReplacement(_ => Task.FromResult<IReadOnlyDictionary<string, IReadOnlySet<string>>?>(null)));
    }

    [Fact]
    public void Modules_RunInRegistrationOrder()
    {
        _h.Api("First", "modules[0]").RegisterPresenceRouterCallbacks(NoRoutes, NoInterest);
        _h.Api("Second", "modules[1]").RegisterPresenceRouterCallbacks(NoRoutes, NoInterest);

        Assert.Equal(["First", "Second"], _h.Pipeline.PresenceRouterModules.Select(static m => m.Name));
    }
}
