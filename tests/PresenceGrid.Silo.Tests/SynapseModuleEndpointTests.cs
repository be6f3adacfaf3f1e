using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace PresenceGrid.Silo.Tests;

/// <summary>
/// Contract tests of the Synapse module endpoints (docs/api.md, "Synapse module endpoints") over real Kestrel:
/// <c>POST /v1/router/users_for_states</c> and <c>GET /v1/router/interested/{userId}</c> answer what the grid's routing
/// modules decide (as <c>explain</c> does), <c>POST /v1/ingest/states</c> mirrors a homeserver's states into the grid.
/// </summary>
public sealed class SynapseModuleEndpointTests
{
    private const string Routers = """
        server_name: test
        rc_presence:
          per_second: 0
          burst_count: 1
        modules:
          - module: PresenceGrid.Modules.AlwaysSendToUsersRouter
            config:
              always_send_to_users: ["@gobbler:test"]
              blacklisted_users: ["@secret:test"]
          - module: PresenceGrid.Modules.PairRouter
            config:
              routes:
                "@bob:test": ["@alice:test", "@far:remote.org"]
        """;

    private static string U(string user) => Uri.EscapeDataString(user);

    private static string S(string user, string state, string? status = null, long lastActive = 0, bool active = false) =>
        $$"""{"user_id":"{{user}}","state":"{{state}}","last_active_ts":{{lastActive}},"last_federation_update_ts":7,"last_user_sync_ts":8,"status_msg":{{(status is null ? "null" : $"\"{status}\"")}},"currently_active":{{(active ? "true" : "false")}}}""";

    private static string Batch(params string[] states) => $$"""{"states":[{{string.Join(",", states)}}]}""";

    private static void AssertError((int Status, JsonElement Body) response, int status, string errcode, string mentions)
    {
        Assert.True(status == response.Status, $"{response.Status} {response.Body}");
        Assert.Equal(errcode, response.Body.GetProperty("errcode").GetString());
        Assert.Contains(mentions, response.Body.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    /// <summary>The users a recipient gets from <c>users_for_states</c>, in the answer's order.</summary>
    private static List<string> RoutedTo(JsonElement answer, string recipient) =>
        answer.GetProperty("users").TryGetProperty(recipient, out JsonElement states)
            ? [.. states.EnumerateArray().Select(s => s.GetProperty("user_id").GetString()!)]
            : [];

    private static async Task<bool> DeliveredAsync(RunningSilo silo, string from, string to)
    {
        (int status, JsonElement explain) = await silo.SendAsync(HttpMethod.Get, $"/v1/admin/explain?from={U(from)}&to={U(to)}");
        Assert.Equal(200, status);
        return explain.GetProperty("delivered").GetBoolean();
    }

    [Fact]
    public async Task UsersForStates_IsTheModulesMergedAnswer_StatesAsGiven_AndAgreesWithExplain()
    {
        await using RunningSilo silo = await RunningSilo.StartAsync(Routers);
        string alice = S("@alice:test", "online", "hello", lastActive: 1234, active: true);
        string far = S("@far:remote.org", "org.matrix.msc3026.busy", "busy far away", lastActive: 99);

        (int status, JsonElement answer) = await silo.SendAsync(HttpMethod.Post, "/v1/router/users_for_states",
            Batch(alice, S("@carol:test", "unavailable"), S("@secret:test", "online"), far));

        Assert.Equal(200, status);
        Assert.False(answer.TryGetProperty("errors", out _), answer.ToString());
        Assert.Equal(["@alice:test", "@far:remote.org"], RoutedTo(answer, "@bob:test").Order(StringComparer.Ordinal));
        Assert.Equal(["@alice:test", "@carol:test", "@far:remote.org"], RoutedTo(answer, "@gobbler:test").Order(StringComparer.Ordinal));
        Assert.Equal(2, answer.GetProperty("users").EnumerateObject().Count());

        // Each routed state is the one given, all seven fields.
        JsonElement aliceToBob = answer.GetProperty("users").GetProperty("@bob:test").EnumerateArray().Single(s => s.GetProperty("user_id").GetString() == "@alice:test");
        Assert.Equal(JsonDocument.Parse(alice).RootElement.ToString(), aliceToBob.ToString());

        // explain runs the same merged callbacks: what it delivers through the modules is what users_for_states routes.
        foreach (string sender in new[] { "@alice:test", "@carol:test", "@secret:test" })
        {
            (_, JsonElement one) = await silo.SendAsync(HttpMethod.Post, "/v1/router/users_for_states", Batch(S(sender, "offline")));
            foreach (string recipient in new[] { "@bob:test", "@gobbler:test" })
            {
                Assert.True(RoutedTo(one, recipient).Contains(sender) == await DeliveredAsync(silo, sender, recipient), $"{sender} → {recipient}");
            }
        }

        (_, JsonElement reread) = await silo.SendAsync(HttpMethod.Get, $"/v1/presence/{U("@alice:test")}/status?requester={U("@alice:test")}");
        Assert.Equal("offline", reread.GetProperty("presence").GetString());
    }

    [Fact]
    public async Task Interested_IsTheModulesMergedAnswer_AllPassesThrough()
    {
        await using RunningSilo silo = await RunningSilo.StartAsync(Routers);

        (int status, JsonElement gobbler) = await silo.SendAsync(HttpMethod.Get, $"/v1/router/interested/{U("@gobbler:test")}");
        (_, JsonElement bob) = await silo.SendAsync(HttpMethod.Get, $"/v1/router/interested/{U("@bob:test")}");
        (_, JsonElement carol) = await silo.SendAsync(HttpMethod.Get, $"/v1/router/interested/{U("@carol:test")}");

        Assert.Equal(200, status);
        Assert.Equal("ALL", gobbler.GetProperty("users").GetString());
        Assert.Equal(["@alice:test", "@far:remote.org"], bob.GetProperty("users").EnumerateArray().Select(u => u.GetString()));
        Assert.Equal(0, carol.GetProperty("users").GetArrayLength());
        Assert.True(await DeliveredAsync(silo, "@far:remote.org", "@bob:test"));
        Assert.False(await DeliveredAsync(silo, "@far:remote.org", "@carol:test"));
        AssertError(await silo.SendAsync(HttpMethod.Get, "/v1/router/interested/bob"), 400, "M_INVALID_PARAM", "user_id");
    }

    [Fact]
    public async Task WithoutModules_NothingIsRouted_AndNobodyIsInterested()
    {
        await using RunningSilo silo = await RunningSilo.StartAsync();

        (int status, JsonElement routed) = await silo.SendAsync(HttpMethod.Post, "/v1/router/users_for_states", Batch(S("@alice:test", "online")));
        (_, JsonElement interested) = await silo.SendAsync(HttpMethod.Get, $"/v1/router/interested/{U("@alice:test")}");

        Assert.Equal(200, status);
        Assert.Equal("""{"users":{}}""", routed.GetRawText());
        Assert.Equal("""{"users":[]}""", interested.GetRawText());
    }

    [Fact]
    public async Task Ingest_ReachesARoomMatesSync_Once_LatestWins_AndGetSeesTheGivenState()
    {
        await using RunningSilo silo = await RunningSilo.StartAsync();
        await silo.SendAsync(HttpMethod.Put, $"/v1/rooms/{U("!r:test")}/members/{U("@alice:test")}", """{"membership":"join"}""");
        await silo.SendAsync(HttpMethod.Put, $"/v1/rooms/{U("!r:test")}/members/{U("@carol:test")}", """{"membership":"join"}""");
        await silo.SendAsync(HttpMethod.Put, $"/v1/rooms/{U("!r:test")}/members/{U("@bob:test")}", """{"membership":"join"}""");
        string token = (await silo.SendAsync(HttpMethod.Get, $"/v1/sync/{U("@bob:test")}")).Body.GetProperty("next_batch").GetString()!;
        long lastActive = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 60_000;
        string online = S("@alice:test", "online", "from synapse", lastActive, active: true);

        (int status, JsonElement answer) = await silo.SendAsync(HttpMethod.Post, "/v1/ingest/states",
            Batch(S("@alice:test", "unavailable", "earlier"), online));

        Assert.Equal(200, status);
        Assert.Equal("{}", answer.GetRawText());
        JsonElement first = (await silo.SendAsync(HttpMethod.Get, $"/v1/sync/{U("@bob:test")}?since={U(token)}&timeout=10000")).Body;
        JsonElement content = Assert.Single(first.GetProperty("events").EnumerateArray()).GetProperty("content");
        Assert.Equal("online", content.GetProperty("presence").GetString());
        Assert.Equal("from synapse", content.GetProperty("status_msg").GetString());
        Assert.True(content.GetProperty("currently_active").GetBoolean());
        Assert.InRange(content.GetProperty("last_active_ago").GetInt64(), 60_000, 600_000);

        // The same state again notifies nobody: the next event bob sees is carol's.
        Assert.Equal(200, (await silo.SendAsync(HttpMethod.Post, "/v1/ingest/states", Batch(online))).Status);
        Assert.Equal(200, (await silo.SendAsync(HttpMethod.Post, "/v1/ingest/states", Batch(S("@carol:test", "online")))).Status);
        JsonElement second = (await silo.SendAsync(HttpMethod.Get, $"/v1/sync/{U("@bob:test")}?since={U(first.GetProperty("next_batch").GetString()!)}&timeout=10000")).Body;
        Assert.Equal(["@carol:test"], second.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("sender").GetString()));
    }

    [Fact]
    public async Task Ingest_OfUsersWithoutActiveGrains_ActivatesNone_AndIsSeenBySyncsAndReads()
    {
        await using RunningSilo silo = await RunningSilo.StartAsync();
        await silo.SendAsync(HttpMethod.Put, $"/v1/rooms/{U("!r:test")}/members/{U("@alice:test")}", """{"membership":"join"}""");
        await silo.SendAsync(HttpMethod.Put, $"/v1/rooms/{U("!r:test")}/members/{U("@bob:test")}", """{"membership":"join"}""");
        string token = (await silo.SendAsync(HttpMethod.Get, $"/v1/sync/{U("@bob:test")}")).Body.GetProperty("next_batch").GetString()!;

        Assert.Equal(200, (await silo.SendAsync(HttpMethod.Post, "/v1/ingest/states", Batch(S("@alice:test", "online", "mirrored"), S("@far:remote.org", "unavailable")))).Status);

        IManagementGrain management = silo.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0);
        DetailedGrainStatistic[] activations = await management.GetDetailedGrainStatistics();
        Assert.DoesNotContain(activations, a => a.GrainId.Type.ToString() == "user");
        JsonElement synced = (await silo.SendAsync(HttpMethod.Get, $"/v1/sync/{U("@bob:test")}?since={U(token)}&timeout=10000")).Body;
        Assert.Equal("mirrored", Assert.Single(synced.GetProperty("events").EnumerateArray()).GetProperty("content").GetProperty("status_msg").GetString());
        Assert.Equal("mirrored", (await silo.SendAsync(HttpMethod.Get, $"/v1/presence/{U("@alice:test")}/status?requester={U("@alice:test")}")).Body.GetProperty("status_msg").GetString());
        Assert.Contains(await management.GetDetailedGrainStatistics(), a => a.GrainId.Type.ToString() == "user"); // the read activated it
    }

    [Fact]
    public async Task Ingest_BadItemsAreListed_TheRestApplied()
    {
        await using RunningSilo silo = await RunningSilo.StartAsync();

        (int status, JsonElement answer) = await silo.SendAsync(HttpMethod.Post, "/v1/ingest/states", Batch(
            S("@dan:test", "online", "applied"),
            """{"user_id":"@eve:test","state":"dancing"}""",
            """{"user_id":"@eve:test","state":"org.matrix.msc3026.busy"}""",
            """{"user_id":"@far:remote.org","state":"org.matrix.msc3026.busy"}""",
            """{"user_id":"@eve:test","state":"online","last_active_ts":-1}""",
            """{"user_id":"@eve:test","state":"online","mood":"x"}""",
            """{"state":"online"}""",
            "42"));

        Assert.Equal(200, status);
        var errors = answer.GetProperty("errors").EnumerateArray().Select(e => (e.GetProperty("index").GetInt32(), e.GetProperty("errcode").GetString())).ToList();
        Assert.Equal([(1, "M_INVALID_PARAM"), (2, "M_INVALID_PARAM"), (4, "M_INVALID_PARAM"), (5, "M_BAD_JSON"), (6, "M_BAD_JSON"), (7, "M_BAD_JSON")], errors);
        Assert.Contains("states[1].state", answer.GetProperty("errors")[0].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal("applied", (await silo.SendAsync(HttpMethod.Get, $"/v1/presence/{U("@dan:test")}/status?requester={U("@dan:test")}")).Body.GetProperty("status_msg").GetString());
        Assert.Equal("offline", (await silo.SendAsync(HttpMethod.Get, $"/v1/presence/{U("@eve:test")}/status?requester={U("@eve:test")}")).Body.GetProperty("presence").GetString());
    }

    [Fact]
    public async Task BadBodies_Are400Or413_AndChangeNothing()
    {
        await using RunningSilo silo = await RunningSilo.StartAsync(Routers);
        string good = S("@alice:test", "online", "changed");
        string tooMany = Batch([.. Enumerable.Repeat(good, 10_001)]);

        foreach (string path in new[] { "/v1/ingest/states", "/v1/router/users_for_states" })
        {
            AssertError(await silo.SendAsync(HttpMethod.Post, path, "{}"), 400, "M_BAD_JSON", "states");
            AssertError(await silo.SendAsync(HttpMethod.Post, path, """{"states":{}}"""), 400, "M_BAD_JSON", "states");
            AssertError(await silo.SendAsync(HttpMethod.Post, path, $$"""{"states":[{{good}}],"extra":1}"""), 400, "M_BAD_JSON", "extra");
            AssertError(await silo.SendAsync(HttpMethod.Post, path, $$"""{"states":[{{good}}]"""), 400, "M_NOT_JSON", "body");
            AssertError(await silo.SendAsync(HttpMethod.Post, path, "[]"), 400, "M_BAD_JSON", "body");
            AssertError(await silo.SendAsync(HttpMethod.Post, path, tooMany), 413, "M_TOO_LARGE", "10000");
            AssertError(await silo.SendAsync(HttpMethod.Post, path, $$"""{"states":[{"user_id":"@alice:test","state":"online","status_msg":"{{new string('x', 9 << 20)}}"}]}"""), 413, "M_TOO_LARGE", "body");
        }

        (_, JsonElement alice) = await silo.SendAsync(HttpMethod.Get, $"/v1/presence/{U("@alice:test")}/status?requester={U("@alice:test")}");
        Assert.Equal("offline", alice.GetProperty("presence").GetString());
        Assert.False(alice.TryGetProperty("status_msg", out _));
    }

    [Fact]
    public async Task Ingest_OfTheMaximumBatch_IsAccepted()
    {
        await using RunningSilo silo = await RunningSilo.StartAsync();
        var body = new StringBuilder("""{"states":[""");
        for (int i = 0; i < 10_000; i++)
        {
            body.Append(i == 0 ? string.Empty : ",").Append(S($"@u{i}:test", "online", "a status of some length", 1_700_000_000_000 + i, active: true));
        }

        (int status, JsonElement answer) = await silo.SendAsync(HttpMethod.Post, "/v1/ingest/states", body.Append("]}").ToString());

        Assert.True(status == 200, answer.ToString());
        Assert.Equal("online", (await silo.SendAsync(HttpMethod.Get, $"/v1/presence/{U("@u9999:test")}/status?requester={U("@u9999:test")}")).Body.GetProperty("presence").GetString());
    }
}
