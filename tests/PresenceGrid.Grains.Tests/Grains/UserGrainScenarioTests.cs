using System.Text.Json;
using PresenceGrid.Matrix;
using PresenceGrid.Presence;

namespace PresenceGrid.Grains.Tests;

/// <summary>§7 scenarios of the user grain: timers on the grain clock, status rules, modes, rate limit, federation.</summary>
public sealed class UserGrainScenarioTests
{
    private const string U1 = "@user1:test";
    private const string U2 = "@user2:test";

    [Fact]
    public async Task S33_UserGoesOfflineByTimeout_StatusMsgRemains()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        await silo.Put(U1, PresenceState.Online, "I'm here!");
        Assert.Equal(PresenceState.Online, (await silo.Get(U1)).State);

        await silo.AdvanceAsync(TimeSpan.FromSeconds(31));

        var state = await silo.Get(U1);
        Assert.Equal(PresenceState.Offline, state.State);
        Assert.Equal("I'm here!", state.StatusMsg);
    }

    [Fact]
    public async Task S16_IdleTimer_OnTheGrainClock_SyncingUserBecomesUnavailable()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        await silo.Presence.SetSyncingAsync(U1, "dev-1", start: true);
        await silo.AdvanceAsync(TimeSpan.FromMinutes(2));
        await silo.Presence.KeepAliveAsync(U1, "dev-1");
        await silo.AdvanceAsync(TimeSpan.FromMinutes(2));
        await silo.Presence.KeepAliveAsync(U1, "dev-1");
        Assert.Equal(PresenceState.Online, (await silo.Get(U1)).State);

        await silo.AdvanceAsync(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));

        Assert.Equal(PresenceState.Unavailable, (await silo.Get(U1)).State);
    }

    [Fact]
    public async Task EdgeTriggeredSync_StopThenSyncTimeout_GoesOffline_AndNotifiesRoomMates()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        await silo.Join("!room:test", U1, U2);
        var (_, token) = await silo.Sync(U2);
        await silo.Presence.SetSyncingAsync(U1, "dev-1", start: true);
        await silo.Presence.SetSyncingAsync(U1, "dev-1", start: false);
        Assert.Equal(PresenceState.Online, (await silo.Get(U1)).State);

        await silo.AdvanceAsync(TimeSpan.FromSeconds(31));

        Assert.Equal(PresenceState.Offline, (await silo.Get(U1)).State);
        var (events, _) = await silo.Sync(U2, token);
        Assert.Equal(PresenceState.Offline, Assert.Single(events).State);
    }

    [Fact]
    public async Task S44_Untracked_ModuleUpdateDoesNotIdle_AndClientInputIsIgnored()
    {
        await using var silo = await PresenceTestSilo.StartAsync(o => o.Mode = PresenceMode.Untracked);
        await silo.Presence.SetPresenceForUsersAsync(new Dictionary<string, (PresenceState, string?)> { [U1] = (PresenceState.Online, "from module") });

        await silo.AdvanceAsync(TimeSpan.FromDays(2));
        var result = await silo.Presence.SetPresenceAsync(U1, new PresenceStatusRequest(PresenceState.Offline, null));

        Assert.Equal(PresenceCommandOutcome.Ignored, result.Outcome);
        var state = await silo.Get(U1);
        Assert.Equal(PresenceState.Online, state.State);
        Assert.Equal("from module", state.StatusMsg);
    }

    [Fact]
    public async Task S65_PutWithPresenceDisabled_IsAcceptedAndNotApplied_GetSaysOffline()
    {
        await using var silo = await PresenceTestSilo.StartAsync(o => o.Mode = PresenceMode.Disabled);

        var result = await silo.Presence.SetPresenceAsync(U1, new PresenceStatusRequest(PresenceState.Online, "x"));

        Assert.Equal(PresenceCommandOutcome.Ignored, result.Outcome);
        Assert.Equal(PresenceState.Offline, (await silo.Get(U1)).State);
        Assert.Equal(PresenceState.Offline, (await silo.Grains.GetGrain<IUserPresenceGrain>(U1).GetPresence()).State);
    }

    [Fact]
    public async Task S66_S67_RateLimit_SecondImmediatePutIsRefused_AfterTheIntervalAllowed()
    {
        await using var silo = await PresenceTestSilo.StartAsync(o =>
        {
            o.Timings.RatelimitPerSecond = 0.1;
            o.Timings.RatelimitBurstCount = 1;
        });

        var first = await silo.Presence.SetPresenceAsync(U1, new PresenceStatusRequest(PresenceState.Online, "one"));
        var second = await silo.Presence.SetPresenceAsync(U1, new PresenceStatusRequest(PresenceState.Unavailable, "two"));

        Assert.Equal(PresenceCommandOutcome.Applied, first.Outcome);
        Assert.Equal(PresenceCommandOutcome.RateLimited, second.Outcome);
        Assert.Equal(10_000, second.RetryAfterMs);
        Assert.Equal("one", (await silo.Get(U1)).StatusMsg);

        await silo.AdvanceAsync(TimeSpan.FromSeconds(10));
        var third = await silo.Presence.SetPresenceAsync(U1, new PresenceStatusRequest(PresenceState.Unavailable, "three"));
        Assert.Equal(PresenceCommandOutcome.Applied, third.Outcome);
        Assert.Equal("three", (await silo.Get(U1)).StatusMsg);
    }

    [Fact]
    public async Task BadInput_ChangesNothing_AndNamesTheField()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        await silo.Put(U1, PresenceState.Online, "kept");

        var notMxid = await Assert.ThrowsAsync<MatrixValidationException>(() => silo.Presence.SetPresenceAsync("alice", new PresenceStatusRequest(PresenceState.Online, null)));
        var remote = await Assert.ThrowsAsync<MatrixValidationException>(() => silo.Presence.SetPresenceAsync("@bob:elsewhere", new PresenceStatusRequest(PresenceState.Online, null)));
        var busy = await Assert.ThrowsAsync<MatrixValidationException>(() => silo.Presence.SetPresenceAsync(U1, new PresenceStatusRequest(PresenceState.Busy, null)));
        var tooLong = await Assert.ThrowsAnyAsync<Exception>(() => silo.Presence.SetPresenceAsync(U1, new PresenceStatusRequest(PresenceState.Online, new string('x', 3000))));
        var membership = await Assert.ThrowsAsync<MatrixValidationException>(() => silo.Presence.SetMembershipAsync("!r:test", U1, "joined"));
        var room = await Assert.ThrowsAsync<MatrixValidationException>(() => silo.Presence.SetMembershipAsync("not-a-room", U1, "join"));

        Assert.Equal("user_id", notMxid.Field);
        Assert.Equal("user_id", remote.Field);
        Assert.Equal("presence", busy.Field);
        Assert.Contains("status_msg", tooLong.Message);
        Assert.Equal("membership", membership.Field);
        Assert.Equal("room_id", room.Field);
        var state = await silo.Get(U1);
        Assert.Equal(PresenceState.Online, state.State);
        Assert.Equal("kept", state.StatusMsg);
        Assert.Empty(await silo.Grains.GetGrain<IRoomGrain>("!r:test").GetMembers());
    }

    [Fact]
    public async Task S24_RestoredPresence_Idles_ToOfflineAfterSyncTimeout()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        long now = silo.NowMs;
        var storage = StoredPresence.Storage(silo.Services);
        var stored = new StoredPresence
        {
            State = new PresenceRecord { State = "online", LastActiveTs = now, LastFederationUpdateTs = now, LastUserSyncTs = now, CurrentlyActive = true },
        };
        await storage.WriteStateAsync("presence", GrainId.Create("user", U1), stored);

        Assert.Equal(PresenceState.Online, (await silo.Get(U1)).State);
        await silo.AdvanceAsync(TimeSpan.FromSeconds(31));

        Assert.Equal(PresenceState.Offline, (await silo.Get(U1)).State);
    }

    [Fact]
    public async Task PresenceSurvivesDeactivation_OfTheUserGrain()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        await silo.Put(U1, PresenceState.Unavailable, "persisted");
        var storage = StoredPresence.Storage(silo.Services);
        var read = new StoredPresence();

        await storage.ReadStateAsync("presence", GrainId.Create("user", U1), read);

        Assert.True(read.RecordExists);
        Assert.Equal("unavailable", read.State.State);
        Assert.Equal("persisted", read.State.StatusMsg);
    }

    [Fact]
    public async Task AnIdleGrain_Deactivates_WithItsDevicesParked_AndWakesOnlyForItsPresenceTimer()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        await silo.Presence.SetSyncingAsync(U1, "phone", start: true);
        await silo.Presence.SetSyncingAsync(U1, "laptop", start: true);
        await silo.AdvanceAsync(TimeSpan.FromSeconds(5));
        await silo.Presence.BumpActiveAsync(U1, "phone");   // last_active only: written lazily, within a minute
        var users = silo.Services.GetRequiredService<Fanout.UserTable>();
        Assert.True(users.TryGetIndex(U1, out int index));
        long flushAt = users[index].WakeAt;

        IUserPresenceGrain grain = silo.Grains.GetGrain<IUserPresenceGrain>(U1);
        await silo.Cluster.DeactivateAsync(grain);
        await silo.Cluster.WaitForDeactivationAsync(grain);

        // Deactivation wrote the change, so the next wake-up is the presence timer (idle), not the written flush.
        Assert.Equal(silo.NowMs + 60_000, flushAt);
        Assert.True(users[index].WakeAt > flushAt, $"wakes at {users[index].WakeAt}, the written flush was due at {flushAt}");
        Assert.NotNull(users[index].Parked);
        Assert.Equal(2, users[index].Parked!.Devices.Length);

        // Reactivated, it carries on with both devices (not a restart's single pseudo-device): one device stopping
        // leaves the user online.
        await silo.Presence.SetSyncingAsync(U1, "laptop", start: false);
        await silo.AdvanceAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(PresenceState.Online, (await silo.Get(U1)).State);
        Assert.Null(users[index].Parked);
    }

    [Fact]
    public async Task LastActiveOnlyChanges_AreWrittenWithinAMinute_NotAtOnce()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        await silo.Put(U1, PresenceState.Online, "here");
        var storage = StoredPresence.Storage(silo.Services);
        var before = new StoredPresence();
        await storage.ReadStateAsync("presence", GrainId.Create("user", U1), before);

        // A bump of an already active user changes last_active only: it does not notify and is not written yet.
        await silo.AdvanceAsync(TimeSpan.FromSeconds(5));
        await silo.Presence.BumpActiveAsync(U1, null);
        var soon = new StoredPresence();
        await storage.ReadStateAsync("presence", GrainId.Create("user", U1), soon);
        Assert.Equal(before.State.LastActiveTs, soon.State.LastActiveTs);

        await silo.AdvanceAsync(UserPresenceGrain.DirtyFlushDelay);
        await silo.Get(U1);   // queued behind the flush tick on the grain's turn
        var later = new StoredPresence();
        await storage.ReadStateAsync("presence", GrainId.Create("user", U1), later);
        Assert.Equal(before.State.LastActiveTs + 5_000, later.State.LastActiveTs);
        Assert.Equal("here", later.State.StatusMsg);
    }

    [Fact]
    public async Task S22_RemoteUser_FromFederation_TimesOutAfter30Minutes()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        using var edu = JsonDocument.Parse("""{"push":[{"user_id":"@far:remote.example","presence":"online","status_msg":"hello","last_active_ago":1000,"currently_active":true}]}""");

        var errors = await silo.Presence.ReceiveFederationAsync("remote.example", edu.RootElement);

        Assert.Empty(errors);
        var grain = silo.Grains.GetGrain<IUserPresenceGrain>("@far:remote.example");
        Assert.Equal(PresenceState.Online, (await grain.GetPresence()).State);
        await silo.AdvanceAsync(TimeSpan.FromMinutes(30) + TimeSpan.FromSeconds(1));
        var expired = await grain.GetPresence();
        Assert.Equal(PresenceState.Offline, expired.State);
        Assert.Equal("hello", expired.StatusMsg);
    }

    [Fact]
    public async Task IncomingFederation_BadItemsRejectedOneByOne_RestApply()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        using var edu = JsonDocument.Parse("""
            {"push":[
              {"user_id":"@ok:remote.example","presence":"online"},
              {"user_id":"@spoof:other.example","presence":"online"},
              {"user_id":"@nopresence:remote.example"},
              {"user_id":"@local:test","presence":"online"},
              {"user_id":"@ok2:remote.example","presence":"unavailable","status_msg":5}
            ]}
            """);

        var errors = await silo.Presence.ReceiveFederationAsync("remote.example", edu.RootElement);

        Assert.Equal([1, 2, 3, 4], errors.Select(e => e.Index));
        Assert.Contains("origin", errors[0].Error);
        Assert.Contains("presence", errors[1].Error);
        Assert.Contains("local", errors[2].Error);
        Assert.Contains("status_msg", errors[3].Error);
        Assert.Equal(PresenceState.Online, (await silo.Grains.GetGrain<IUserPresenceGrain>("@ok:remote.example").GetPresence()).State);
        Assert.Equal(PresenceState.Offline, (await silo.Grains.GetGrain<IUserPresenceGrain>("@spoof:other.example").GetPresence()).State);
        Assert.Equal(PresenceState.Offline, (await silo.Get("@local:test")).State);
    }

    [Fact]
    public async Task IncomingFederation_MalformedEnvelope_IsRejectedNamingTheField()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        using var noPush = JsonDocument.Parse("""{"pushy":[]}""");

        var error = await Assert.ThrowsAsync<MatrixValidationException>(() => silo.Presence.ReceiveFederationAsync("remote.example", noPush.RootElement));
        var origin = await Assert.ThrowsAsync<MatrixValidationException>(() => silo.Presence.ReceiveFederationAsync("bad origin!", noPush.RootElement));

        Assert.Equal("content.push", error.Field);
        Assert.Equal("origin", origin.Field);
    }
}

/// <summary>§7 S14, S15 (set_presence on sync under rc_presence) and S26/S27 (presence disabled flushes stale state).</summary>
public sealed class SyncRateLimitAndDisabledTests
{
    private const string U1 = "@user1:test";

    private static Task<PresenceTestSilo> Limited() => PresenceTestSilo.StartAsync(o =>
    {
        o.Timings.RatelimitPerSecond = 0.1;
        o.Timings.RatelimitBurstCount = 1;
    });

    [Fact]
    public async Task S14_OverRatelimit_SyncOnlineThenUnavailable_UserStaysOnline()
    {
        await using var silo = await Limited();

        await silo.Presence.SetSyncingAsync(U1, "dev", start: true, setPresence: "online");
        await silo.Presence.SetSyncingAsync(U1, "dev", start: true, setPresence: "unavailable");

        Assert.Equal(PresenceState.Online, (await silo.Get(U1)).State);
    }

    [Fact]
    public async Task S15_WithinRatelimit_SyncOnlineThenUnavailable30sLater_UserBecomesUnavailable()
    {
        await using var silo = await Limited();

        await silo.Presence.SetSyncingAsync(U1, "dev", start: true, setPresence: "online");
        await silo.AdvanceAsync(TimeSpan.FromSeconds(30));
        await silo.Presence.SetSyncingAsync(U1, "dev", start: true, setPresence: "unavailable");

        Assert.Equal(PresenceState.Unavailable, (await silo.Get(U1)).State);
    }

    [Fact]
    public async Task RcPresence_SeparateBuckets_AStatusSetRightAfterASyncStart_IsApplied()
    {
        await using var silo = await Limited();
        await silo.Presence.SetSyncingAsync(U1, "dev", start: true, setPresence: "online");

        var put = await silo.Presence.SetPresenceAsync(U1, new PresenceStatusRequest(PresenceState.Online, "just synced"), "dev");

        Assert.Equal(PresenceCommandOutcome.Applied, put.Outcome);
        Assert.Equal("just synced", (await silo.Get(U1)).StatusMsg);
    }

    [Fact]
    public async Task RcPresence_SeparateBuckets_ASyncWithSetPresenceUnavailableRightAfterAPut_IsApplied()
    {
        await using var silo = await Limited();
        await silo.Presence.SetPresenceAsync(U1, new PresenceStatusRequest(PresenceState.Online, null), "dev");

        await silo.Presence.SetSyncingAsync(U1, "dev", start: true, setPresence: "unavailable");

        Assert.Equal(PresenceState.Unavailable, (await silo.Get(U1)).State);
    }

    [Fact]
    public async Task RcPresence_EverySyncRequestCostsASyncToken_EvenOneThatChangesNothing()
    {
        await using var silo = await Limited();
        await silo.Presence.SetSyncingAsync(U1, "dev", start: true, setPresence: "online");
        await silo.AdvanceAsync(TimeSpan.FromSeconds(10));

        await silo.Presence.SetSyncingAsync(U1, "dev", start: true, setPresence: "online"); // changes nothing, takes the token
        await silo.Presence.SetSyncingAsync(U1, "dev", start: true, setPresence: "unavailable"); // over the limit

        Assert.Equal(PresenceState.Online, (await silo.Get(U1)).State);
    }

    [Fact]
    public async Task RcPresence_ASyncOverTheLimit_DoesNotBringAnOfflineUserOnline()
    {
        await using var silo = await Limited();
        await silo.Presence.SetSyncingAsync(U1, "dev", start: true, setPresence: "offline"); // takes the sync token

        await silo.Presence.SetSyncingAsync(U1, "dev", start: true, setPresence: "online");

        Assert.Equal(PresenceState.Offline, (await silo.Get(U1)).State);
    }

    [Fact]
    public async Task RcPresence_ASyncOverTheLimit_IsNoActivity_AndDoesNotStartSyncing()
    {
        await using var silo = await Limited();
        await silo.Presence.SetSyncingAsync(U1, "dev", start: true, setPresence: "online");
        await silo.Presence.SetSyncingAsync(U1, "dev", start: false);
        long startedAt = silo.NowMs;
        await silo.AdvanceAsync(TimeSpan.FromSeconds(5));

        await silo.Presence.SetSyncingAsync(U1, "dev", start: true, setPresence: "online"); // over the limit

        Assert.Equal(startedAt, (await silo.Get(U1)).LastActiveTs);
        await silo.AdvanceAsync(TimeSpan.FromSeconds(26)); // 31 s after the stop: not syncing, so the sync timeout applies
        Assert.Equal(PresenceState.Offline, (await silo.Get(U1)).State);
    }

    [Theory]
    [InlineData(PresenceMode.Disabled)]
    [InlineData(PresenceMode.Untracked)]
    public async Task PutWhenNotTracked_IsRateLimitedFirst_AndNeverValidated(PresenceMode mode)
    {
        await using var silo = await PresenceTestSilo.StartAsync(o =>
        {
            o.Mode = mode;
            o.Timings.RatelimitPerSecond = 0.1;
            o.Timings.RatelimitBurstCount = 1;
        });

        var invalid = await silo.Presence.SetPresenceAsync(U1, "away", new string('x', 3000));
        var second = await silo.Presence.SetPresenceAsync(U1, new PresenceStatusRequest(PresenceState.Busy, null)); // busy is not enabled
        await silo.AdvanceAsync(TimeSpan.FromSeconds(10));
        var later = await silo.Presence.SetPresenceAsync(U1, new PresenceStatusRequest(PresenceState.Busy, null));

        Assert.Equal(PresenceCommandOutcome.Ignored, invalid.Outcome);
        Assert.Equal((PresenceCommandOutcome.RateLimited, 10_000L), (second.Outcome, second.RetryAfterMs));
        Assert.Equal(PresenceCommandOutcome.Ignored, later.Outcome);
        Assert.Equal(PresenceState.Offline, (await silo.Grains.GetGrain<IUserPresenceGrain>(U1).GetPresence()).State);
    }

    [Fact]
    public async Task PutWhenTracked_ValidatesTheValueFromItsString()
    {
        await using var silo = await PresenceTestSilo.StartAsync();

        var away = await Assert.ThrowsAsync<MatrixValidationException>(() => silo.Presence.SetPresenceAsync(U1, "away", null));
        var tooLong = await Assert.ThrowsAsync<MatrixValidationException>(() => silo.Presence.SetPresenceAsync(U1, "online", new string('x', 3000)));
        var applied = await silo.Presence.SetPresenceAsync(U1, "unavailable", "ok");

        Assert.Equal(("presence", "status_msg"), (away.Field, tooLong.Field));
        Assert.Equal(PresenceCommandOutcome.Applied, applied.Outcome);
        Assert.Equal((PresenceState.Unavailable, "ok"), ((await silo.Get(U1)).State, (await silo.Get(U1)).StatusMsg));
    }

    [Fact]
    public async Task PresenceDisabled_SyncCarriesNoPresence_NeitherSnapshotsNorJoinExtras()
    {
        await using var silo = await PresenceTestSilo.StartAsync(o =>
        {
            o.Mode = Presence.PresenceMode.Disabled;
            o.IncludeOfflineUsersOnSync = true;
        });
        const string Bob = "@bob:test";
        await silo.Join("!room:test", U1, Bob);

        var (initial, token) = await silo.Sync(Bob);
        await silo.Join("!room:test", "@carol:test");
        var (incremental, _) = await silo.Sync(Bob, token);
        var (full, _) = await silo.Sync(Bob, token, fullState: true);

        Assert.Empty(initial);
        Assert.Empty(incremental);
        Assert.Empty(full);
    }

    [Fact]
    public async Task S26_S27_PresenceDisabled_StaleStoredStateIsFlushedOffline_AndRoomMatesAreTold()
    {
        await using var silo = await PresenceTestSilo.StartAsync(o => o.Mode = Presence.PresenceMode.Disabled);
        const string Bob = "@bob:test";
        await silo.Join("!room:test", U1, Bob);
        var (_, token) = await silo.Sync(Bob);
        var storage = StoredPresence.Storage(silo.Services);
        var stale = new StoredPresence { State = new PresenceRecord { State = "online", LastActiveTs = silo.NowMs, StatusMsg = "stale", CurrentlyActive = true } };
        await storage.WriteStateAsync("presence", GrainId.Create("user", U1), stale);

        var state = await silo.Grains.GetGrain<IUserPresenceGrain>(U1).GetPresence();

        Assert.Equal((PresenceState.Offline, null, false), (state.State, state.StatusMsg, state.CurrentlyActive));
        var read = new StoredPresence();
        await storage.ReadStateAsync("presence", GrainId.Create("user", U1), read);
        Assert.Equal(("offline", null), (read.State.State, read.State.StatusMsg));
        var (events, next) = await silo.Sync(Bob, token);
        Assert.Equal((U1, PresenceState.Offline, null), (Assert.Single(events).UserId.ToString(), events[0].State, events[0].StatusMsg));
        Assert.Empty((await silo.Sync(Bob, next)).Events);
    }

    [Fact]
    public async Task PresenceDisabled_AtStartUp_EveryStoredNonOfflineUserIsFlushed_WithoutItsGrainBeingCalled()
    {
        var store = new SharedGrainStore();
        await using (var before = await PresenceTestSilo.StartAsync(store: store))
        {
            await before.Put(U1, PresenceState.Online, "here");
            await before.Put("@user2:test", PresenceState.Unavailable, "away");
            await before.Put("@user3:test", PresenceState.Offline, "kept");
        }

        await using var silo = await PresenceTestSilo.StartAsync(o => o.Mode = Presence.PresenceMode.Disabled, store: store);

        foreach (string user in new[] { U1, "@user2:test" })
        {
            var read = await StoredPresence.ReadAsync(silo.Services, user);
            Assert.Equal(("offline", null, false), (read.State.State, read.State.StatusMsg, read.State.CurrentlyActive));
        }

        var offline = await StoredPresence.ReadAsync(silo.Services, "@user3:test");
        Assert.Equal(("offline", "kept"), (offline.State.State, offline.State.StatusMsg));
    }
}
