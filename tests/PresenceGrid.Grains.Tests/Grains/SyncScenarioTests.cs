using PresenceGrid.Matrix;

namespace PresenceGrid.Grains.Tests;

/// <summary>§7 scenarios of sync, interest, excluded rooms and visibility, on one silo.</summary>
public sealed class SyncScenarioTests
{
    private const string U1 = "@user1:test";
    private const string U2 = "@user2:test";
    private const string U3 = "@user3:test";

    [Fact]
    public async Task S55_IncrementalInterest_SeesRoomMatesAndSelf_NotStrangers()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        await silo.Join("!room:test", U1, U2);
        var (_, token) = await silo.Sync(U2);

        await silo.Put(U1, PresenceState.Online);
        await silo.Put(U2, PresenceState.Online);
        await silo.Put(U3, PresenceState.Online);
        var (events, _) = await silo.Sync(U2, token);

        Assert.Equal(new[] { U1, U2 }.Order(), events.Select(e => e.UserId.ToString()).Order());
        Assert.All(events, e => Assert.Equal(PresenceState.Online, e.State));
    }

    [Fact]
    public async Task S56_IncrementalInterest_ExcludedRoomDoesNotRoute_UntilANormalRoomIsShared()
    {
        await using var silo = await PresenceTestSilo.StartAsync(o => o.ExcludeRoomsFromPresence.Add("!excluded:test"));
        await silo.Join("!excluded:test", U1, U2);
        var (_, token) = await silo.Sync(U2);

        await silo.Put(U1, PresenceState.Online);
        var (events, token2) = await silo.Sync(U2, token);
        Assert.Empty(events);

        await silo.Join("!normal:test", U1, U2);
        (_, token2) = await silo.Sync(U2, token2);
        await silo.Put(U1, PresenceState.Unavailable);
        (events, _) = await silo.Sync(U2, token2);
        var only = Assert.Single(events);
        Assert.Equal(U1, only.UserId.ToString());
        Assert.Equal(PresenceState.Unavailable, only.State);
    }

    [Fact]
    public async Task S51_ExcludedRooms_NotRouted_ButUserStillSeesOwnUpdate()
    {
        await using var silo = await PresenceTestSilo.StartAsync(o =>
        {
            o.ExcludeRoomsFromPresence.Add("!a:test");
            o.ExcludeRoomsFromPresence.Add("!b:test");
        });
        await silo.Join("!a:test", U1, U2);
        await silo.Join("!b:test", U1, U3);
        var (_, t1) = await silo.Sync(U1);
        var (_, t2) = await silo.Sync(U2);
        var (_, t3) = await silo.Sync(U3);

        await silo.Put(U1, PresenceState.Online, "hi");

        Assert.Equal([U1], (await silo.Sync(U1, t1)).Events.Select(e => e.UserId.ToString()));
        Assert.Empty((await silo.Sync(U2, t2)).Events);
        Assert.Empty((await silo.Sync(U3, t3)).Events);
    }

    [Fact]
    public async Task S51_OneRoomExcluded_OnlyTheOtherRoomRoutes()
    {
        await using var silo = await PresenceTestSilo.StartAsync(o => o.ExcludeRoomsFromPresence.Add("!a:test"));
        await silo.Join("!a:test", U1, U2);
        await silo.Join("!b:test", U1, U3);
        var (_, t2) = await silo.Sync(U2);
        var (_, t3) = await silo.Sync(U3);

        await silo.Put(U1, PresenceState.Online);

        Assert.Empty((await silo.Sync(U2, t2)).Events);
        Assert.Equal([U1], (await silo.Sync(U3, t3)).Events.Select(e => e.UserId.ToString()));
    }

    [Fact]
    public async Task S53_Visibility_RespectsExcludedRooms()
    {
        await using var silo = await PresenceTestSilo.StartAsync(o => o.ExcludeRoomsFromPresence.Add("!x:test"));
        await silo.Join("!x:test", U1, U2);

        var denied = await Assert.ThrowsAsync<MatrixValidationException>(() => silo.Presence.GetPresenceAsync(U1, U2));
        Assert.Equal("M_FORBIDDEN", denied.ErrCode);

        await silo.Join("!y:test", U1, U2);
        Assert.Equal(PresenceState.Offline, (await silo.Presence.GetPresenceAsync(U1, U2)).State);
    }

    [Fact]
    public async Task S52_ExcludedRoomConfig_AppliesToUpdateAndReadPaths()
    {
        await using var silo = await PresenceTestSilo.StartAsync(o => o.ExcludeRoomsFromPresence.Add("!excluded:test"));
        await silo.Join("!excluded:test", U1, U2);
        var (_, t2) = await silo.Sync(U2);

        await silo.Put(U1, PresenceState.Online);

        Assert.Empty((await silo.Sync(U2, t2)).Events);
        await Assert.ThrowsAsync<MatrixValidationException>(() => silo.Presence.GetPresenceAsync(U1, U2));
        Assert.DoesNotContain((await silo.Sync(U2)).Events, e => e.UserId.ToString() == U1);
    }

    [Fact]
    public async Task GetPresence_OfStranger_IsForbidden_AndOfSelfAllowed()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        await silo.Put(U1, PresenceState.Online, "busy day");

        await Assert.ThrowsAsync<MatrixValidationException>(() => silo.Presence.GetPresenceAsync(U1, U3));
        var own = await silo.Get(U1);
        Assert.Equal("busy day", own.StatusMsg);
    }

    [Fact]
    public async Task InitialSync_IsSnapshotOfRoomMatesOnline_IncrementalFromSameTokenIsEmpty()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        await silo.Join("!room:test", U1, U2, U3);
        await silo.Put(U1, PresenceState.Online);
        await silo.Put(U3, PresenceState.Unavailable);

        var (initial, token) = await silo.Sync(U2);
        Assert.Equal(new[] { U1, U3 }.Order(), initial.Select(e => e.UserId.ToString()).Order());

        var (again, token2) = await silo.Sync(U2, token);
        Assert.Empty(again);
        Assert.Equal(token, token2);
    }

    [Fact]
    public async Task IncrementalSync_CoalescesToLatestStatePerSender()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        await silo.Join("!room:test", U1, U2);
        var (_, token) = await silo.Sync(U2);

        await silo.Put(U1, PresenceState.Online, "one");
        await silo.Put(U1, PresenceState.Unavailable, "two");
        await silo.Put(U1, PresenceState.Online, "three");

        var (events, _) = await silo.Sync(U2, token);
        var only = Assert.Single(events);
        Assert.Equal("three", only.StatusMsg);
    }

    [Fact]
    public async Task IncrementalSync_IncludesOfflineStates()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        await silo.Join("!room:test", U1, U2);
        await silo.Put(U1, PresenceState.Online);
        var (_, token) = await silo.Sync(U2);

        await silo.Put(U1, PresenceState.Offline);

        var (events, _) = await silo.Sync(U2, token);
        Assert.Equal(PresenceState.Offline, Assert.Single(events).State);
    }

    [Fact]
    public async Task LongPoll_WaitsForADelivery_AndTimesOutEmptyOnTheClock()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        await silo.Join("!room:test", U1, U2);
        var (_, token) = await silo.Sync(U2);

        Task<Sync.PresenceSyncResult> waiting = silo.Presence.SyncAsync(U2, token, timeout: TimeSpan.FromSeconds(30));
        Assert.False(waiting.IsCompleted);
        await silo.Put(U1, PresenceState.Online);
        var woken = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(U1, Assert.Single(woken.Events).UserId.ToString());

        Task<Sync.PresenceSyncResult> idle = silo.Presence.SyncAsync(U2, woken.NextBatch, timeout: TimeSpan.FromSeconds(30));
        silo.Clock.Advance(TimeSpan.FromSeconds(31));
        var empty = await idle.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Empty(empty.Events);
        Assert.Equal(woken.NextBatch, empty.NextBatch);
    }

    [Fact]
    public async Task JoiningARoom_DeliversMembersStatesToTheJoiner_AndTheJoinerToMembers()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        await silo.Join("!room:test", U1);
        await silo.Put(U1, PresenceState.Online, "here");
        await silo.Put(U2, PresenceState.Online, "new");
        var (_, t1) = await silo.Sync(U1);
        var (_, t2) = await silo.Sync(U2);

        await silo.Join("!room:test", U2);

        Assert.Contains((await silo.Sync(U2, t2)).Events, e => e.UserId.ToString() == U1 && e.StatusMsg == "here");
        Assert.Contains((await silo.Sync(U1, t1)).Events, e => e.UserId.ToString() == U2 && e.StatusMsg == "new");
    }

    [Fact]
    public async Task S3_SendLocalOnlinePresenceTo_OneSnapshotPerToken_OfflineNotIncluded()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        const string R = "@receiver:test";
        const string S = "@sender:test";
        await silo.Join("!room:test", R, S);
        await silo.Put(S, PresenceState.Online);
        var (first, t1) = await silo.Sync(R);
        Assert.Equal([S], first.Select(e => e.UserId.ToString()));
        var (none, t1b) = await silo.Sync(R, t1);
        Assert.Empty(none);
        var (_, t2) = await silo.Sync(R);

        await silo.Presence.SendLocalOnlinePresenceToAsync([R]);

        Assert.Equal([S], (await silo.Sync(R, t1b)).Events.Select(e => e.UserId.ToString()));
        var (fromT2, t3) = await silo.Sync(R, t2);
        Assert.Equal([S], fromT2.Select(e => e.UserId.ToString()));
        Assert.Empty((await silo.Sync(R, t3)).Events);

        await silo.Put(S, PresenceState.Offline, "I slink back into the darkness.");
        var (offline, t4) = await silo.Sync(R, t3);
        Assert.Equal(PresenceState.Offline, Assert.Single(offline).State);

        await silo.Presence.SendLocalOnlinePresenceToAsync([R]);
        Assert.Empty((await silo.Sync(R, t4)).Events);
        Assert.Equal("I slink back into the darkness.", (await silo.Get(S)).StatusMsg);
    }

    [Fact]
    public async Task BadSinceToken_IsRejectedNamingTheField()
    {
        await using var silo = await PresenceTestSilo.StartAsync();

        var error = await Assert.ThrowsAsync<MatrixValidationException>(() => silo.Presence.SyncAsync(U1, "garbage"));
        Assert.Equal("since", error.Field);
        Assert.Equal("M_INVALID_PARAM", error.ErrCode);
    }
}
