using PresenceGrid.Matrix;

namespace PresenceGrid.Grains.Tests;

/// <summary>Broadcast rooms (at least BroadcastRoomThreshold members) fan out through a room log, not per-member inboxes.</summary>
public sealed class BroadcastRoomTests
{
    private static readonly string[] Members = ["@a:test", "@b:test", "@c:test", "@d:test"];

    private static Task<PresenceTestSilo> StartAsync(int logCapacity = 4096) => PresenceTestSilo.StartAsync(o =>
    {
        o.BroadcastRoomThreshold = 3;
        o.BroadcastRoomLogCapacity = logCapacity;
    });

    [Fact]
    public async Task ChangeInBroadcastRoom_IsWrittenOnce_AndEveryMemberSeesIt()
    {
        await using var silo = await StartAsync();
        await silo.Join("!big:test", Members);
        var tokens = new Dictionary<string, string>();
        foreach (string member in Members)
        {
            tokens[member] = (await silo.Sync(member)).Token;
        }

        var fanout = silo.Services.GetService(typeof(Fanout.PresenceFanout)) as Fanout.PresenceFanout;
        long deliveriesBefore = fanout!.Deliveries;
        await silo.Put("@a:test", PresenceState.Online, "to everyone");
        await silo.Presence.DrainAsync();

        Assert.Equal(1, fanout.RoomLogAppends);
        Assert.Equal(1, fanout.Deliveries - deliveriesBefore);
        foreach (string member in Members)
        {
            var (events, _) = await silo.Sync(member, tokens[member]);
            Assert.Equal("to everyone", Assert.Single(events).StatusMsg);
        }
    }

    [Fact]
    public async Task BroadcastRoomLog_WakesALongPoll()
    {
        await using var silo = await StartAsync();
        await silo.Join("!big:test", Members);
        var (_, token) = await silo.Sync("@b:test");

        var waiting = silo.Presence.SyncAsync("@b:test", token, timeout: TimeSpan.FromSeconds(30));
        await silo.Put("@c:test", PresenceState.Online);
        var result = await waiting.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal("@c:test", Assert.Single(result.Events).UserId.ToString());
    }

    [Fact]
    public async Task TokenOlderThanTheLog_GetsASnapshot()
    {
        await using var silo = await StartAsync(logCapacity: 2);
        await silo.Join("!big:test", Members);
        var (_, token) = await silo.Sync("@a:test");

        await silo.Put("@b:test", PresenceState.Online, "1");
        await silo.Put("@c:test", PresenceState.Online, "2");
        await silo.Put("@d:test", PresenceState.Online, "3");
        var (events, next) = await silo.Sync("@a:test", token);

        Assert.Equal(new[] { "@b:test", "@c:test", "@d:test" }, events.Select(e => e.UserId.ToString()).Order());
        Assert.Empty((await silo.Sync("@a:test", next)).Events);
    }

    [Fact]
    public async Task SyncTokens_TwoDevicesAlternating_BothStayIncremental()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        await silo.Join("!room:test", "@a:test", "@b:test");
        var (_, phone) = await silo.Sync("@a:test");
        var (_, laptop) = await silo.Sync("@a:test");

        await silo.Put("@b:test", PresenceState.Online, "one");
        var (phoneEvents, phone2) = await silo.Sync("@a:test", phone);
        await silo.Put("@b:test", PresenceState.Unavailable, "two");
        var (laptopEvents, _) = await silo.Sync("@a:test", laptop);
        var (phoneEvents2, _) = await silo.Sync("@a:test", phone2);

        Assert.Equal("one", Assert.Single(phoneEvents).StatusMsg);
        Assert.Equal("two", Assert.Single(laptopEvents).StatusMsg);
        Assert.Equal("two", Assert.Single(phoneEvents2).StatusMsg);
    }
}
