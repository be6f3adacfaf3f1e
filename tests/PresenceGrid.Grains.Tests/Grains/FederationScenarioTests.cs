using PresenceGrid.Federation;
using PresenceGrid.Matrix;
using PresenceGrid.Presence;

namespace PresenceGrid.Grains.Tests;

/// <summary>§5 and §7 federation scenarios: outgoing per-destination outboxes, join-time sends, excluded rooms.</summary>
public sealed class FederationScenarioTests
{
    private static async Task<List<UserPresenceState>> Outgoing(PresenceTestSilo silo, string destination)
    {
        await silo.Presence.DrainAsync();
        var edus = await silo.Presence.TakeOutgoingAsync(destination, 100);
        return [.. edus.SelectMany(e => e.Push)];
    }

    [Theory]
    [InlineData(PresenceMode.Disabled)]
    [InlineData(PresenceMode.Untracked)]
    public async Task PresenceNotTracked_FederatesNothing_NeitherJoinTimeSendsNorModuleSetStates(PresenceMode mode)
    {
        await using var silo = await PresenceTestSilo.StartAsync(o => o.Mode = mode);
        await silo.Join("!room:test", "@far:island");
        await silo.Put("@me:test", PresenceState.Online, "status");

        await silo.Join("!room:test", "@me:test"); // a local join: its state would go to island
        await silo.Presence.SetPresenceForUsersAsync(new Dictionary<string, (PresenceState, string?)> { ["@me:test"] = (PresenceState.Online, "from a module") });
        await silo.Presence.SendLocalOnlinePresenceToAsync(["@far:island"]);
        await silo.Presence.SetMembershipAsync("!room:test", "@new:server2", "join"); // a new remote host

        Assert.Empty(await Outgoing(silo, "island"));
        Assert.Empty(await Outgoing(silo, "server2"));
    }

    [Fact]
    public async Task S49_RemoteJoins_GetLocalMembersStates_StaleOfflineFiltered()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        await silo.Join("!room:test", "@test:test", "@test2:test");
        await silo.Put("@test2:test", PresenceState.Online);
        await Outgoing(silo, "server2");

        await silo.Presence.SetMembershipAsync("!room:test", "@alice:server2", "join");
        var sent = await Outgoing(silo, "server2");
        Assert.Equal(["@test2:test"], sent.Select(s => s.UserId.ToString()));

        await silo.Presence.SetMembershipAsync("!room:test", "@bob:server3", "join");
        Assert.Equal(["@test2:test"], (await Outgoing(silo, "server3")).Select(s => s.UserId.ToString()));
        Assert.Empty(await Outgoing(silo, "server2"));
    }

    [Fact]
    public async Task S50_LocalUserJoins_ItsStateGoesToEveryRemoteHostInTheRoom()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        await silo.Put("@test:test", PresenceState.Online);
        await silo.Join("!room:test", "@test:test", "@a:server2", "@b:server3");
        await silo.Put("@test2:test", PresenceState.Online);
        await Outgoing(silo, "server2");
        await Outgoing(silo, "server3");

        await silo.Join("!room:test", "@test2:test");

        Assert.Equal(["@test2:test"], (await Outgoing(silo, "server2")).Select(s => s.UserId.ToString()));
        Assert.Equal(["@test2:test"], (await Outgoing(silo, "server3")).Select(s => s.UserId.ToString()));
    }

    [Fact]
    public async Task LocalChange_IsQueuedForHostsOfItsRooms_LatestPerUserWins()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        await silo.Join("!room:test", "@me:test", "@far:island");
        await Outgoing(silo, "island");

        await silo.Put("@me:test", PresenceState.Online, "first");
        await silo.Put("@me:test", PresenceState.Unavailable, "second");
        var sent = await Outgoing(silo, "island");

        var only = Assert.Single(sent);
        Assert.Equal("second", only.StatusMsg);
        Assert.Empty(await Outgoing(silo, "test"));
    }

    [Fact]
    public async Task KeepAlivePings_ReachTheServersOfTheRoutersKeys_NotOnlyRoomHosts()
    {
        // Errata: Synapse's get_interested_remotes(to_federation_ping) asks the router, so a routed remote watcher
        // (here from AlwaysSendToUsersRouter) keeps getting pings and does not time the user out after 30 minutes.
        await using var silo = await PresenceTestSilo.StartWithModulesAsync(new Dictionary<string, string?>
        {
            ["modules:0:module"] = "PresenceGrid.Modules.AlwaysSendToUsersRouter",
            ["modules:0:config:always_send_to_users:0"] = "@watcher:island",
        });
        await silo.Presence.SetSyncingAsync("@me:test", "phone", start: true);
        Assert.Contains(await Outgoing(silo, "island"), s => s.UserId.ToString() == "@me:test");

        // The sync stays open (renewed every minute); the user idles to unavailable at 5 min, which is federated as a change.
        for (int minute = 1; minute <= 6; minute++)
        {
            await silo.AdvanceAsync(TimeSpan.FromMinutes(1));
            await silo.Presence.KeepAliveAsync("@me:test", "phone");
        }

        UserPresenceState idled = Assert.Single(await Outgoing(silo, "island"));
        Assert.Equal(PresenceState.Unavailable, idled.State);

        // Nothing changes from then on: a keep-alive ping 25 minutes after the change is all island hears, and it must hear it.
        var heard = new List<(int Minute, UserPresenceState State)>();
        for (int minute = 7; minute <= 33; minute++)
        {
            await silo.AdvanceAsync(TimeSpan.FromMinutes(1));
            await silo.Presence.KeepAliveAsync("@me:test", "phone");
            heard.AddRange((await Outgoing(silo, "island")).Select(state => (minute, state)));
        }

        var (at, ping) = Assert.Single(heard);
        Assert.InRange(at, 5 + 25, 6 + 26);
        Assert.Equal(("@me:test", PresenceState.Unavailable), (ping.UserId.ToString(), ping.State));
    }

    [Fact]
    public async Task S54_ExcludedRoomHosts_AreNotDestinations()
    {
        await using var silo = await PresenceTestSilo.StartAsync(o => o.ExcludeRoomsFromPresence.Add("!excluded:test"));
        await silo.Join("!excluded:test", "@me:test", "@far:island");
        await silo.Join("!normal:test", "@me:test", "@near:mainland");

        await silo.Put("@me:test", PresenceState.Online);

        Assert.Empty(await Outgoing(silo, "island"));
        Assert.Single(await Outgoing(silo, "mainland"));
    }

    [Fact]
    public async Task RemoteUsersStates_AreNotFederatedOnward()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        await silo.Join("!room:test", "@me:test", "@far:island", "@other:mainland");
        await Outgoing(silo, "mainland");
        using var edu = System.Text.Json.JsonDocument.Parse("""{"push":[{"user_id":"@far:island","presence":"online"}]}""");

        await silo.Presence.ReceiveFederationAsync("island", edu.RootElement);

        Assert.Empty(await Outgoing(silo, "mainland"));
    }

    [Fact]
    public async Task Outbox_SplitsIntoEdusOfAtMost50States_OldestFirst()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        var outbox = silo.Grains.GetGrain<IFederationOutboxGrain>("island");
        var states = Enumerable.Range(0, 120)
            .Select(i => UserPresenceState.Default(UserId.Parse($"@u{i}:test")) with { State = PresenceState.Online })
            .ToList();
        await outbox.Enqueue(states);
        await outbox.Enqueue([states[0] with { StatusMsg = "updated" }]);

        var edus = await silo.Presence.TakeOutgoingAsync("island", 2);

        Assert.Equal([50, 50], edus.Select(e => e.Push.Count));
        Assert.Equal("@u0:test", edus[0].Push[0].UserId.ToString());
        Assert.Equal("updated", edus[0].Push[0].StatusMsg);
        Assert.Equal(20, await outbox.PendingCount());
        Assert.Equal(20, (await silo.Presence.TakeOutgoingAsync("island", 5)).Single().Push.Count);
    }

    [Fact]
    public async Task TakeOutgoing_BadArguments_NameTheField()
    {
        await using var silo = await PresenceTestSilo.StartAsync();

        var limit = await Assert.ThrowsAsync<MatrixValidationException>(() => silo.Presence.TakeOutgoingAsync("island", 0));
        var destination = await Assert.ThrowsAsync<MatrixValidationException>(() => silo.Presence.TakeOutgoingAsync("not a server", 1));

        Assert.Equal("limit", limit.Field);
        Assert.Equal("destination", destination.Field);
    }

    [Fact]
    public async Task S4_SendLocalOnlinePresenceTo_Remote_SendsLocalOnlineStatesItWouldSee()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        await silo.Join("!room:test", "@s:test", "@off:test", "@far_away_person:island", "@else:mainland");
        await silo.Put("@s:test", PresenceState.Online);
        await Outgoing(silo, "island");

        await silo.Presence.SendLocalOnlinePresenceToAsync(["@far_away_person:island"]);

        Assert.Equal(["@s:test"], (await Outgoing(silo, "island")).Select(s => s.UserId.ToString()));
    }
}
