using PresenceGrid.Matrix;

namespace PresenceGrid.Grains.Tests;

/// <summary>
/// Room mates are reached through the room (a mark per room, read by members' syncs), not through one
/// inbox write per member; these pin down what that must keep: every member sees the change once, a
/// long poll wakes, a change is never skipped by a sync that races it, and membership is read at
/// sync time.
/// </summary>
public sealed class RoomFanoutTests
{
    private static readonly string[] Members = ["@a:test", "@b:test", "@c:test", "@d:test"];

    [Fact]
    public async Task AChange_ReachesEveryMemberThroughTheRoom_WithOneInboxWrite()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        await silo.Join("!room:test", Members);
        var tokens = new Dictionary<string, string>();
        foreach (string member in Members)
        {
            tokens[member] = (await silo.Sync(member)).Token;
        }

        var fanout = (Fanout.PresenceFanout)silo.Services.GetService(typeof(Fanout.PresenceFanout))!;
        long deliveriesBefore = fanout.Deliveries;
        long reachedBefore = fanout.RoomRecipients;
        await silo.Put("@a:test", PresenceState.Online, "to the room");
        await silo.Presence.DrainAsync();

        Assert.Equal(1, fanout.Deliveries - deliveriesBefore);
        Assert.Equal(Members.Length, fanout.RoomRecipients - reachedBefore);
        foreach (string member in Members)
        {
            var (events, next) = await silo.Sync(member, tokens[member]);
            Assert.Equal("to the room", Assert.Single(events).StatusMsg);
            Assert.Empty((await silo.Sync(member, next)).Events);
        }
    }

    [Fact]
    public async Task AChangeInASmallRoom_WakesALongPollingMember()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        await silo.Join("!room:test", Members);
        var (_, token) = await silo.Sync("@b:test");

        Task<PresenceGrid.Sync.PresenceSyncResult> waiting = silo.Presence.SyncAsync("@b:test", token, timeout: TimeSpan.FromSeconds(30));
        await silo.Put("@c:test", PresenceState.Online, "wake up");
        PresenceGrid.Sync.PresenceSyncResult result = await waiting.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal("@c:test", Assert.Single(result.Events).UserId.ToString());
    }

    [Fact]
    public async Task LongPollsThatEndWithoutAChange_LeaveNothingOnTheirQuietInboxAndRooms()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        await silo.Join("!quiet:test", "@a:test", "@b:test");
        var (_, token) = await silo.Sync("@a:test");
        var index = (Fanout.RoomMembershipIndex)silo.Services.GetService(typeof(Fanout.RoomMembershipIndex))!;
        Fanout.RoomMembershipIndex.Room room = Assert.Single(index.GetRooms(UserId.Parse("@a:test")));
        Assert.True(index.Users.TryGetIndex("@a:test", out int reader));
        Fanout.Inbox inbox = index.Users.InboxOf(reader)!;

        Task<PresenceGrid.Sync.PresenceSyncResult> timedOut = silo.Presence.SyncAsync("@a:test", token, timeout: TimeSpan.FromSeconds(30));
        Assert.Equal((1, 1), (inbox.WatcherCount, room.WatcherCount));
        await silo.AdvanceAsync(TimeSpan.FromSeconds(31));
        Assert.Empty((await timedOut.WaitAsync(TimeSpan.FromSeconds(10))).Events);

        using var hangUp = new CancellationTokenSource();
        Task<PresenceGrid.Sync.PresenceSyncResult> cancelled = silo.Presence.SyncAsync("@a:test", token, timeout: TimeSpan.FromSeconds(30), cancellationToken: hangUp.Token);
        await hangUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Equal((0, 0), (inbox.WatcherCount, room.WatcherCount));
    }

    [Fact]
    public async Task SyncsRacingChanges_EndWithEveryMembersLastState()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        string[] members = [.. Enumerable.Range(0, 12).Select(i => $"@m{i}:test")];
        await silo.Join("!a:test", members[..8]);
        await silo.Join("!b:test", members[4..]);
        await silo.Join("!b:test", "@reader:test");
        await silo.Join("!a:test", "@reader:test");
        var (_, token) = await silo.Sync("@reader:test");

        // Writers change states while the reader syncs in a loop from its last token: whatever a
        // sync does not see must come in a later one, so the last view is every member's last state.
        var seen = new Dictionary<string, string?>();
        using var done = new CancellationTokenSource();
        Task reader = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                PresenceGrid.Sync.PresenceSyncResult result = await silo.Presence.SyncAsync("@reader:test", token);
                foreach (UserPresenceState state in result.Events)
                {
                    seen[state.UserId.ToString()] = state.StatusMsg;
                }

                token = result.NextBatch;
            }
        });
        await Task.WhenAll(members.Select(member => Task.Run(async () =>
        {
            for (int round = 1; round <= 30; round++)
            {
                await silo.Put(member, round % 2 == 0 ? PresenceState.Online : PresenceState.Unavailable, $"{member} {round}");
            }
        })));
        await silo.Presence.DrainAsync();
        await done.CancelAsync();
        await reader;

        foreach (UserPresenceState state in (await silo.Sync("@reader:test", token)).Events)
        {
            seen[state.UserId.ToString()] = state.StatusMsg;
        }

        Assert.All(members, member => Assert.Equal($"{member} 30", seen.GetValueOrDefault(member)));
    }

    [Fact]
    public async Task ARoomThatGrowsIntoABroadcastRoom_StillGivesAnOlderTokenTheChangesFromBeforeItsLog()
    {
        await using var silo = await PresenceTestSilo.StartAsync(o => o.BroadcastRoomThreshold = 3);
        await silo.Join("!room:test", "@reader:test", "@b:test");
        var (_, token) = await silo.Sync("@reader:test");

        await silo.Put("@b:test", PresenceState.Online, "while small");
        await silo.Presence.DrainAsync();
        await silo.Join("!room:test", "@c:test");
        await silo.Put("@c:test", PresenceState.Online, "once big");
        var (events, _) = await silo.Sync("@reader:test", token);

        var fanout = (Fanout.PresenceFanout)silo.Services.GetService(typeof(Fanout.PresenceFanout))!;
        Assert.True(fanout.RoomLogAppends >= 1, "the room keeps a log once it is big");
        Assert.Equal("while small", Assert.Single(events, e => e.UserId.ToString() == "@b:test").StatusMsg);
        Assert.Equal("once big", Assert.Single(events, e => e.UserId.ToString() == "@c:test").StatusMsg);
    }

    [Fact]
    public async Task AfterLeavingARoom_ItsMembersChangesAreNoLongerRead_AsSynapseAsksWhoSharesARoomAtSyncTime()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        await silo.Join("!room:test", "@reader:test", "@b:test");
        await silo.Join("!other:test", "@reader:test", "@c:test");
        var (_, token) = await silo.Sync("@reader:test");

        await silo.Put("@b:test", PresenceState.Online, "before the leave");
        await silo.Put("@c:test", PresenceState.Online, "still shared");
        await silo.Presence.SetMembershipAsync("!room:test", "@reader:test", "leave");
        var (events, _) = await silo.Sync("@reader:test", token);

        Assert.Equal("@c:test", Assert.Single(events).UserId.ToString());
    }
}
