using Microsoft.Extensions.Configuration;
using PresenceGrid.Matrix;
using PresenceGrid.Modules;

namespace PresenceGrid.Grains.Tests;

/// <summary>
/// Issue 17's places where the grid answered differently from Synapse (<c>handlers/presence.py</c>
/// <c>PresenceEventSource.get_new_events</c>, <c>handlers/sync.py</c>), each with the issue's repro.
/// </summary>
public sealed class SynapseFidelityScenarioTests
{
    private const string R = "@r:test";
    private const string A = "@a:test";
    private const string Rcv = "@rcv:test";
    private const string Snd = "@snd:test";
    private const string Gobbler = "@gobbler:test";
    private const string Watcher = "@watcher:island";

    private static Dictionary<string, string?> Module<TModule>(params (string Key, string Value)[] config)
    {
        var settings = new Dictionary<string, string?> { ["modules:0:module"] = $"{typeof(TModule).FullName}, {typeof(TModule).Assembly.GetName().Name}" };
        foreach ((string key, string value) in config)
        {
            settings[$"modules:0:config:{key}"] = value;
        }

        return settings;
    }

    /// <summary>
    /// Issue 17 item 1. Synapse: an incremental sync answers from its token with <c>include_offline=True</c>, never a
    /// snapshot because the token is old, so a user who went offline since it is in the answer.
    /// </summary>
    [Fact]
    public async Task OldButValidToken_StillIncludesOfflineStatesOfThoseWhoChanged_SynapseIncludeOfflineTrue()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        await silo.Join("!r:test", R, A);
        await silo.Put(A, PresenceState.Online);
        var (_, t0) = await silo.Sync(R);

        // Three more syncs, each from the previous token: T0 is now older than the last two tokens read from.
        string token = t0;
        foreach (string status in new[] { "one", "two", "three" })
        {
            await silo.Put(R, PresenceState.Online, status);
            token = (await silo.Sync(R, token)).Token;
        }

        await silo.Put(A, PresenceState.Offline);

        var (events, _) = await silo.Sync(R, t0);
        Assert.Equal(new[] { A, R }.Order(), events.Select(e => e.UserId.ToString()).Order());
        Assert.Equal(PresenceState.Offline, events.Single(e => e.UserId.ToString() == A).State);
        Assert.Equal("three", events.Single(e => e.UserId.ToString() == R).StatusMsg);
    }

    /// <summary>
    /// Issue 17 item 2. Synapse's <c>get_new_events</c>: <c>candidates = (sharing ∪ extra) ∩ updated</c>, so a user that
    /// only <c>get_interested_users</c> names reaches the reader on its next sync, routed or not.
    /// </summary>
    [Fact]
    public async Task InterestedButNotRouted_ReachesTheReaderOnItsNextSync_SynapseSharingUnionExtraIntersectUpdated()
    {
        await using var silo = await PresenceTestSilo.StartWithModulesAsync(Module<InterestOnlyModule>(("receiver", Rcv), ("sender", Snd)));
        var (_, t) = await silo.Sync(Rcv);

        await silo.Put(Snd, PresenceState.Unavailable);
        await silo.Put("@unrelated:test", PresenceState.Online);

        var (events, next) = await silo.Sync(Rcv, t);
        Assert.Equal(PresenceState.Unavailable, Assert.Single(events, e => e.UserId.ToString() == Snd).State);
        Assert.DoesNotContain(events, e => e.UserId.ToString() == "@unrelated:test");
        Assert.DoesNotContain((await silo.Sync(Rcv, next)).Events, e => e.UserId.ToString() == Snd);
    }

    /// <summary>
    /// Issue 17 item 2, the other mismatch docs/modules.md states: routed but not interested. Synapse's
    /// <c>get_users_for_states</c> only wakes a reader that is not ALL; <c>get_new_events</c> reads shared rooms and
    /// <c>get_interested_users</c>, so the reader never sees the sender, neither incrementally nor initially.
    /// </summary>
    [Fact]
    public async Task RoutedButNotInterested_WakesButNeverShows_SynapseGetNewEventsIgnoresGetUsersForStates()
    {
        await using var silo = await PresenceTestSilo.StartWithModulesAsync(Module<RouteOnlyModule>(("receiver", Rcv)));
        var (_, t) = await silo.Sync(Rcv);

        await silo.Put(Snd, PresenceState.Online, "routed");

        Assert.DoesNotContain((await silo.Sync(Rcv, t)).Events, e => e.UserId.ToString() == Snd);
        Assert.DoesNotContain((await silo.Sync(Rcv)).Events, e => e.UserId.ToString() == Snd);
        Assert.False((await silo.Presence.ExplainAsync(Snd, Rcv)).Delivered);
    }

    /// <summary>
    /// Issue 17 item 3. Synapse uses a module's <c>get_users_for_states</c> states as given (e.g. built with
    /// <c>copy_and_replace</c>): on an ALL user's incremental sync and in federation (<c>get_interested_remotes</c>).
    /// </summary>
    [Fact]
    public async Task ModuleBuiltStates_AreDeliveredAsGiven_OnIncrementalSyncAndInFederation()
    {
        await using var silo = await PresenceTestSilo.StartWithModulesAsync(Module<RedactingModule>(("gobbler", Gobbler), ("watcher", Watcher)));
        var (_, t) = await silo.Sync(Gobbler);

        await silo.Put("@u1:test", PresenceState.Online, "secret plans");

        var (events, _) = await silo.Sync(Gobbler, t);
        UserPresenceState seen = Assert.Single(events);
        Assert.Equal(("@u1:test", PresenceState.Online, (string?)null), (seen.UserId.ToString(), seen.State, seen.StatusMsg));

        var sent = (await silo.Presence.TakeOutgoingAsync("island", 10)).SelectMany(e => e.Push).ToList();
        UserPresenceState federated = Assert.Single(sent);
        Assert.Equal(("@u1:test", PresenceState.Online, (string?)null), (federated.UserId.ToString(), federated.State, federated.StatusMsg));
    }

    private static Dictionary<string, string?> GobblerAndPairs() => new()
    {
        ["modules:0:module"] = "PresenceGrid.Modules.AlwaysSendToUsersRouter",
        ["modules:0:config:always_send_to_users:0"] = Gobbler,
        ["modules:0:config:blacklisted_users:0"] = "@ceo:test",
        ["modules:1:module"] = "PresenceGrid.Modules.PairRouter",
        ["modules:1:config:routes:@rcv:test:0"] = Snd,
    };

    /// <summary>
    /// Issue 18 item 2: explain runs the fan-out's decision. With <c>AlwaysSendToUsersRouter</c> the gobbler's interest is
    /// ALL, and Synapse's ALL path returns exactly <c>get_users_for_states(...)[gobbler]</c>, which leaves the blacklisted
    /// sender out: not delivered. A delivered one names the module.
    /// </summary>
    [Fact]
    public async Task Explain_BlacklistedSenderToAnAllUser_IsNotDelivered_AndAModuleReasonNamesTheModule()
    {
        await using var silo = await PresenceTestSilo.StartWithModulesAsync(GobblerAndPairs());
        var (_, t) = await silo.Sync(Gobbler);
        await silo.Put("@ceo:test", PresenceState.Online, "board meeting");
        await silo.Put("@u1:test", PresenceState.Online);

        Assert.Equal(["@u1:test"], (await silo.Sync(Gobbler, t)).Events.Select(e => e.UserId.ToString()));

        var blacklisted = await silo.Presence.ExplainAsync("@ceo:test", Gobbler);
        Assert.False(blacklisted.Delivered);
        Assert.Empty(blacklisted.Reasons);

        var routed = await silo.Presence.ExplainAsync("@u1:test", Gobbler);
        Assert.True(routed.Delivered);
        Assert.Contains(routed.Reasons, r => r.Kind == "module" && r.Module == "PresenceGrid.Modules.AlwaysSendToUsersRouter");

        var paired = await silo.Presence.ExplainAsync(Snd, Rcv);
        Assert.True(paired.Delivered);
        Assert.Equal([new Hosting.PresenceReason("module", Module: "PresenceGrid.Modules.PairRouter")], paired.Reasons);
    }

    /// <summary>Issue 18 item 2: for every pair, explain's answer is what the recipient's next incremental sync actually shows.</summary>
    [Fact]
    public async Task Explain_AgreesWithActualDelivery_ForEveryPair()
    {
        await using var silo = await PresenceTestSilo.StartWithModulesAsync(GobblerAndPairs(), o => o.ExcludeRoomsFromPresence.Add("!excluded:test"));
        string[] users = [Gobbler, "@ceo:test", "@u1:test", "@u2:test", "@u3:test", "@stranger:test", Rcv, Snd];
        await silo.Join("!room:test", "@u1:test", "@u2:test", "@ceo:test");
        await silo.Join("!excluded:test", "@u3:test", "@stranger:test");
        await silo.Join("!other:test", "@u3:test", Snd);
        var tokens = new Dictionary<string, string>();
        foreach (string user in users)
        {
            tokens[user] = (await silo.Sync(user)).Token;
        }

        foreach (string user in users)
        {
            await silo.Put(user, PresenceState.Unavailable, "changed");
        }

        foreach (string to in users)
        {
            var seen = (await silo.Sync(to, tokens[to])).Events.Select(e => e.UserId.ToString()).ToHashSet();
            foreach (string from in users)
            {
                var explanation = await silo.Presence.ExplainAsync(from, to);
                Assert.True(seen.Contains(from) == explanation.Delivered, $"{from} → {to}: sync {(seen.Contains(from) ? "shows" : "does not show")} it, explain says delivered={explanation.Delivered}");
                Assert.Equal(explanation.Delivered, explanation.Reasons.Count > 0);
            }
        }
    }

    /// <summary>
    /// Issue 17 item 12. Synapse's incremental sync extras (<c>handlers/sync.py</c>) are the users newly joined,
    /// <em>invited or knocked</em> in the reader's rooms, with their current state.
    /// </summary>
    [Fact]
    public async Task IncrementalSyncExtras_IncludeUsersNewlyInvitedOrKnocking_SynapseNewlyJoinedOrInvitedOrKnocked()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        await silo.Join("!r:test", R, A);
        await silo.Put("@invitee:test", PresenceState.Online, "invited");
        await silo.Put("@knocker:test", PresenceState.Unavailable, "knocking");
        var (_, t) = await silo.Sync(R);

        await silo.Presence.SetMembershipAsync("!r:test", "@invitee:test", "invite");
        await silo.Presence.SetMembershipAsync("!r:test", "@knocker:test", "knock");

        var (events, _) = await silo.Sync(R, t);
        Assert.Equal(new[] { "@invitee:test", "@knocker:test" }.Order(), events.Select(e => e.UserId.ToString()).Order());
        Assert.Equal("knocking", events.Single(e => e.UserId.ToString() == "@knocker:test").StatusMsg);
    }

    /// <summary>
    /// Issue 17 item 12. Synapse appends the sync extras after <c>get_new_events</c> whatever the interest, so an ALL
    /// user also gets a newly joined room mate, as is (here one its module leaves out: the blacklisted sender).
    /// </summary>
    [Fact]
    public async Task IncrementalSyncExtras_ApplyToAllInterestUsers_SynapseAppendsExtrasAfterGetNewEvents()
    {
        await using var silo = await PresenceTestSilo.StartWithModulesAsync(GobblerAndPairs());
        await silo.Join("!g:test", Gobbler);
        await silo.Put("@ceo:test", PresenceState.Online, "board meeting");
        var (_, t) = await silo.Sync(Gobbler);

        await silo.Join("!g:test", "@ceo:test");

        var (events, _) = await silo.Sync(Gobbler, t);
        UserPresenceState joined = Assert.Single(events);
        Assert.Equal(("@ceo:test", "board meeting"), (joined.UserId.ToString(), joined.StatusMsg));
    }

    /// <summary>
    /// Issue 17 item 13. Synapse's <c>get_new_events</c>: the full-presence marker of <c>send_local_online_presence_to</c>
    /// sets <c>from_key = None</c> and <c>include_offline = False</c>, whatever <c>include_offline_users_on_sync</c> says.
    /// </summary>
    [Fact]
    public async Task SendLocalOnlinePresenceTo_SnapshotLeavesOfflineUsersOut_EvenWithIncludeOfflineUsersOnSync()
    {
        await using var silo = await PresenceTestSilo.StartAsync(o => o.IncludeOfflineUsersOnSync = true);
        await silo.Join("!r:test", R, A, "@online:test");
        await silo.Put("@online:test", PresenceState.Online);
        await silo.Put(A, PresenceState.Offline, "gone");
        var (initial, t) = await silo.Sync(R);
        Assert.Contains(initial, e => e.UserId.ToString() == A);

        await silo.Presence.SendLocalOnlinePresenceToAsync([R]);

        var (snapshot, _) = await silo.Sync(R, t);
        Assert.Equal(["@online:test"], snapshot.Select(e => e.UserId.ToString()));
    }
}

/// <summary>A module that only declares interest: <c>get_interested_users(receiver) = {sender}</c>, and routes nothing.</summary>
public sealed class InterestOnlyModule
{
    private readonly string _receiver;
    private readonly string _sender;

    public InterestOnlyModule(IConfiguration config, IModuleApi api)
    {
        _receiver = config["receiver"] ?? throw new ModuleConfigException("receiver", "receiver is required");
        _sender = config["sender"] ?? throw new ModuleConfigException("sender", "sender is required");
        api.RegisterPresenceRouterCallbacks(GetUsersForStates, GetInterestedUsers);
    }

    private static Task<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>?> GetUsersForStates(IReadOnlyList<UserPresenceState> states) =>
        Task.FromResult<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>?>(new Dictionary<string, IReadOnlySet<UserPresenceState>>());

    private Task<InterestedUsers?> GetInterestedUsers(string userId) =>
        Task.FromResult<InterestedUsers?>(userId == _receiver ? InterestedUsers.FromUsers([_sender]) : InterestedUsers.None);
}

/// <summary>A module that routes every state to one receiver and declares no interest (the other mismatch).</summary>
public sealed class RouteOnlyModule
{
    private readonly string _receiver;

    public RouteOnlyModule(IConfiguration config, IModuleApi api)
    {
        _receiver = config["receiver"] ?? throw new ModuleConfigException("receiver", "receiver is required");
        api.RegisterPresenceRouterCallbacks(GetUsersForStates, GetInterestedUsers);
    }

    private Task<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>?> GetUsersForStates(IReadOnlyList<UserPresenceState> states) =>
        Task.FromResult<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>?>(
            new Dictionary<string, IReadOnlySet<UserPresenceState>> { [_receiver] = states.ToHashSet() });

    private static Task<InterestedUsers?> GetInterestedUsers(string userId) => Task.FromResult<InterestedUsers?>(InterestedUsers.None);
}

/// <summary>
/// A redacting router: the gobbler's interest is ALL, and it and a remote watcher get every state rebuilt without its
/// status message (new objects, as Python's <c>copy_and_replace</c> makes).
/// </summary>
public sealed class RedactingModule
{
    private readonly string _gobbler;
    private readonly string _watcher;

    public RedactingModule(IConfiguration config, IModuleApi api)
    {
        _gobbler = config["gobbler"] ?? throw new ModuleConfigException("gobbler", "gobbler is required");
        _watcher = config["watcher"] ?? throw new ModuleConfigException("watcher", "watcher is required");
        api.RegisterPresenceRouterCallbacks(GetUsersForStates, GetInterestedUsers);
    }

    private Task<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>?> GetUsersForStates(IReadOnlyList<UserPresenceState> states)
    {
        HashSet<UserPresenceState> redacted = [.. states.Select(s => s with { StatusMsg = null })];
        return Task.FromResult<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>?>(
            new Dictionary<string, IReadOnlySet<UserPresenceState>> { [_gobbler] = redacted, [_watcher] = redacted });
    }

    private Task<InterestedUsers?> GetInterestedUsers(string userId) =>
        Task.FromResult<InterestedUsers?>(userId == _gobbler ? InterestedUsers.All : InterestedUsers.None);
}
