using System.Diagnostics;
using System.Net;
using System.Runtime.CompilerServices;
using PresenceGrid.Client.Internal;
using PresenceGrid.Client.Tests.Infrastructure;
using PresenceGrid.Placement;

namespace PresenceGrid.Client.Tests;

/// <summary>Owner routing: user-keyed requests go to the user's owner silo from a cached placement view.</summary>
public sealed class PresenceGridClientOwnerRoutingTests
{
    private const string PlacementPath = "/v1/cluster/placement";
    private const string UserGrainType = "userpresence";

    private static readonly (string Host, string SiloEndpoint, long Generation)[] ThreeSilos =
    [
        ("silo-a.test", "10.0.0.1:11111", 3),
        ("silo-b.test", "10.0.0.2:11111", 4),
        ("silo-c.test", "10.0.0.3:11111", 5),
    ];

    [Fact]
    public void RouteToOwner_IsOnByDefaultWithSeveralEndpoints_AndOffWithOne()
    {
        using var two = new PresenceGridClient(new PresenceGridClientOptions { Endpoints = [TestClients.EndpointA, TestClients.EndpointB] });
        using var one = new PresenceGridClient(new PresenceGridClientOptions { Endpoints = [TestClients.EndpointA] });
        using var forced = new PresenceGridClient(new PresenceGridClientOptions { Endpoints = [TestClients.EndpointA], RouteToOwner = true });
        using var off = new PresenceGridClient(new PresenceGridClientOptions { Endpoints = [TestClients.EndpointA, TestClients.EndpointB], RouteToOwner = false });

        Assert.True(two.RoutesToOwner);
        Assert.False(one.RoutesToOwner);
        Assert.True(forced.RoutesToOwner);
        Assert.False(off.RoutesToOwner);
    }

    [Fact]
    public void PlacementRefreshInterval_MustBePositive()
    {
        var ex = Assert.Throws<ArgumentException>(() => new PresenceGridClient(new PresenceGridClientOptions
        {
            Endpoints = [TestClients.EndpointA],
            PlacementRefreshInterval = TimeSpan.Zero,
        }));

        Assert.Contains("PresenceGridClientOptions.PlacementRefreshInterval must be positive", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UserKeyedRequests_GoToTheOwnerSilo_AfterOnePlacementFetch()
    {
        var handler = new FakeHttpHandler(r => r.Uri.AbsolutePath == PlacementPath ? FakeHttpHandler.Json(Placement(1, ThreeSilos)) : Answer(r));
        using var client = Routed(handler);
        string[] users = [.. Enumerable.Range(0, 60).Select(i => $"@u{i}:hs")];

        foreach (var user in users)
        {
            await client.SetPresenceAsync(user, PresenceState.Online);
        }

        await client.GetPresenceAsync(users[0], users[0]);
        await client.SyncAsync(users[1]);
        await client.StartSyncingAsync(users[2], "D");
        await client.StopSyncingAsync(users[3], "D");
        await client.MarkActiveAsync(users[4], "D");

        var placement = Assert.Single(handler.Requests, r => r.Uri.AbsolutePath == PlacementPath);
        Assert.Equal(TestClients.EndpointA.Host, placement.Uri.Host);
        var userRequests = handler.Requests.Where(r => r.Uri.AbsolutePath != PlacementPath).ToList();
        Assert.Equal(users.Length + 5, userRequests.Count);
        for (var i = 0; i < users.Length; i++)
        {
            Assert.Equal(ExpectedOwnerHost(users[i], ThreeSilos), userRequests[i].Uri.Host);
        }

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(ExpectedOwnerHost(users[i], ThreeSilos), userRequests[users.Length + i].Uri.Host);
        }

        // Rendezvous hashing spreads sixty users over all three silos.
        Assert.Equal(3, userRequests.Select(r => r.Uri.Host).Distinct().Count());
    }

    [Fact]
    public async Task RequestsNotKeyedByAUser_KeepTheConfiguredOrder_AndFetchNoPlacement()
    {
        var handler = new FakeHttpHandler(r => r.Uri.AbsolutePath switch
        {
            PlacementPath => FakeHttpHandler.Json(Placement(1, ThreeSilos)),
            "/healthz" => FakeHttpHandler.Json("""{"status":"ok"}"""),
            _ => FakeHttpHandler.Empty(),
        });
        using var client = Routed(handler);

        await client.SetMembershipAsync("!r:hs", "@u1:hs", Membership.Join);
        await client.HealthAsync();
        await client.SetPresenceForUsersAsync(new Dictionary<string, UserPresenceUpdate>());

        Assert.Equal(3, handler.Requests.Count);
        Assert.All(handler.Requests, r => Assert.Equal(TestClients.EndpointA.Host, r.Uri.Host));
    }

    [Fact]
    public async Task OwnerThatRefusesConnections_FallsBackToTheConfiguredOrder_IsSkippedForAnInterval_AndTheViewIsRefreshed()
    {
        var time = new ManualTimeProvider();
        var placements = new PlacementCounter();
        var handler = new FakeHttpHandler(r =>
        {
            if (r.Uri.AbsolutePath == PlacementPath)
            {
                placements.Arrived();
                return FakeHttpHandler.Json(Placement(1, ThreeSilos));
            }

            return r.Uri.Host == "silo-c.test" ? throw FakeHttpHandler.ConnectionRefused(r.Uri) : Answer(r);
        });
        using var client = Routed(handler, time);
        var user = UserOwnedBy("silo-c.test", ThreeSilos);
        await client.SetPresenceAsync(UserOwnedBy("silo-a.test", ThreeSilos), PresenceState.Online);
        time.Advance(TimeSpan.FromSeconds(1));

        await client.SetPresenceAsync(user, PresenceState.Online);
        await placements.WaitForAsync(2);
        await client.SetPresenceAsync(user, PresenceState.Unavailable);
        time.Advance(TimeSpan.FromSeconds(5));
        await client.SetPresenceAsync(user, PresenceState.Offline);

        Assert.Equal(
            ["silo-a.test", "silo-c.test", "silo-a.test", "silo-a.test", "silo-c.test", "silo-a.test"],
            handler.Requests.Where(r => r.Uri.AbsolutePath != PlacementPath).Select(r => r.Uri.Host));
    }

    [Fact]
    public async Task StaleView_IsRefreshedInTheBackground_WithoutDelayingRequests()
    {
        var time = new ManualTimeProvider();
        var secondPlacement = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var placements = 0;
        var handler = new FakeHttpHandler(async (r, ct) =>
        {
            if (r.Uri.AbsolutePath != PlacementPath)
            {
                return Answer(r);
            }

            if (Interlocked.Increment(ref placements) == 1)
            {
                return FakeHttpHandler.Json(Placement(1, ThreeSilos));
            }

            // The cluster lost silo c; this answer waits until the test has made its requests.
            await secondPlacement.Task.WaitAsync(ct);
            return FakeHttpHandler.Json(Placement(2, ThreeSilos[..2]));
        });
        using var client = Routed(handler, time);
        var user = UserOwnedBy("silo-c.test", ThreeSilos);
        await client.SetPresenceAsync(user, PresenceState.Online);
        time.Advance(TimeSpan.FromSeconds(5));

        // Due for a refresh: it starts, but the requests go on with the view they have.
        await client.SetPresenceAsync(user, PresenceState.Online).WaitAsync(TimeSpan.FromSeconds(10));
        await client.SetPresenceAsync(user, PresenceState.Unavailable).WaitAsync(TimeSpan.FromSeconds(10));
        secondPlacement.SetResult();
        await Until(() => client.OwnerRouting!.View!.Version == 2, "the refreshed view");
        await client.SetPresenceAsync(user, PresenceState.Offline);

        Assert.Equal(2, Volatile.Read(ref placements));
        Assert.Equal(
            ["silo-c.test", "silo-c.test", "silo-c.test", ExpectedOwnerHost(user, ThreeSilos[..2])],
            handler.Requests.Where(r => r.Uri.AbsolutePath != PlacementPath).Select(r => r.Uri.Host));
    }

    [Fact]
    public async Task SiloWithoutThePlacementRoute_RequestsUseTheConfiguredOrder_AndWaitForNoFetchAgain()
    {
        var handler = new FakeHttpHandler(r => r.Uri.AbsolutePath == PlacementPath
            ? FakeHttpHandler.Json("""{"errcode":"M_NOT_FOUND","error":"no such endpoint"}""", HttpStatusCode.NotFound)
            : Answer(r));
        using var client = Routed(handler);

        await client.SetPresenceAsync("@u1:hs", PresenceState.Online);
        await client.SetPresenceAsync("@u2:hs", PresenceState.Online);

        Assert.Equal(
            [(PlacementPath, "silo-a.test"), ("/v1/presence/%40u1%3Ahs/status", "silo-a.test"), ("/v1/presence/%40u2%3Ahs/status", "silo-a.test")],
            handler.Requests.Select(r => (r.Uri.AbsolutePath, r.Uri.Host)));
        Assert.Same(PlacementView.Empty, client.OwnerRouting!.View);
    }

    [Fact]
    public async Task SilosWithoutAUsableHttpEndpoint_AreNotRoutedTo()
    {
        const string placement = """
            {"version":1,"user_grain_type":"userpresence","silos":[
              {"name":"a","silo_endpoint":"10.0.0.1:1","generation":1,"http_endpoint":"http://0.0.0.0:8080"},
              {"name":"b","silo_endpoint":"10.0.0.2:1","generation":1,"http_endpoint":"http://127.0.0.1:0"},
              {"name":"c","silo_endpoint":"10.0.0.3:1","generation":1,"http_endpoint":"http://[::]:8080"},
              {"name":"d","silo_endpoint":"10.0.0.4:1","generation":1}]}
            """;
        var handler = new FakeHttpHandler(r => r.Uri.AbsolutePath == PlacementPath ? FakeHttpHandler.Json(placement) : Answer(r));
        using var client = Routed(handler);

        foreach (var i in Enumerable.Range(0, 20))
        {
            await client.SetPresenceAsync($"@u{i}:hs", PresenceState.Online);
        }

        Assert.All(handler.Requests, r => Assert.Equal(TestClients.EndpointA.Host, r.Uri.Host));
        Assert.Equal(4, client.OwnerRouting!.View!.Count);
        Assert.Equal(0, client.OwnerRouting.View.RoutableCount);
    }

    [Fact]
    public async Task Watch_OpensOnTheOwnerSilo()
    {
        var handler = new FakeHttpHandler(r => r.Uri.AbsolutePath == PlacementPath
            ? FakeHttpHandler.Json(Placement(1, ThreeSilos))
            : new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("{\"events\":[],\"next_batch\":\"t1\"}\n") });
        using var client = Routed(handler);
        var user = UserOwnedBy("silo-b.test", ThreeSilos);

        await using var watch = client.WatchAsync(user).GetAsyncEnumerator();
        Assert.True(await watch.MoveNextAsync());

        Assert.Equal("t1", watch.Current.NextBatch);
        Assert.Equal("silo-b.test", handler.Requests.Single(r => r.Uri.AbsolutePath.StartsWith("/v1/watch/", StringComparison.Ordinal)).Uri.Host);
    }

    private static PresenceGridClient Routed(FakeHttpHandler handler, TimeProvider? time = null) =>
        TestClients.Create(handler, o => o.RouteToOwner = true, time);

    private static HttpResponseMessage Answer(RecordedRequest request) => request.Uri.AbsolutePath.StartsWith("/v1/sync/", StringComparison.Ordinal)
        ? FakeHttpHandler.Json("""{"events":[],"next_batch":"n"}""")
        : request.Uri.AbsolutePath.EndsWith("/status", StringComparison.Ordinal) && request.Method == HttpMethod.Get
            ? FakeHttpHandler.Json("""{"presence":"online"}""")
            : FakeHttpHandler.Empty();

    private static string Placement(long version, IEnumerable<(string Host, string SiloEndpoint, long Generation)> silos) =>
        $$"""{"version":{{version}},"user_grain_type":"{{UserGrainType}}","silos":[{{string.Join(",", silos.Select(s =>
            $$"""{"name":"{{s.Host}}","address":"{{s.SiloEndpoint}}@{{s.Generation}}","silo_endpoint":"{{s.SiloEndpoint}}","generation":{{s.Generation}},"http_endpoint":"http://{{s.Host}}:8080"}"""))}}]}""";

    /// <summary>The owner by the definition of rendezvous hashing: the silo with the highest score.</summary>
    private static string ExpectedOwnerHost(string user, IEnumerable<(string Host, string SiloEndpoint, long Generation)> silos)
    {
        var grain = RendezvousHashing.HashGrain(UserGrainType, user);
        return silos.MaxBy(s => RendezvousHashing.Score(grain, RendezvousHashing.HashSilo(s.SiloEndpoint, s.Generation))).Host;
    }

    private static string UserOwnedBy(string host, (string Host, string SiloEndpoint, long Generation)[] silos) =>
        Enumerable.Range(0, 1000).Select(i => $"@owned{i}:hs").First(u => ExpectedOwnerHost(u, silos) == host);

    /// <summary>Bounded polling for an effect of a background task.</summary>
    private static async Task Until(Func<bool> condition, string what, [CallerArgumentExpression(nameof(condition))] string? expression = null)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"Timed out waiting for {what} ({expression}).");
            await Task.Delay(5);
        }
    }

    /// <summary>Counts placement fetches and lets a test wait for the n-th.</summary>
    private sealed class PlacementCounter
    {
        private readonly Lock _lock = new();
        private readonly List<(int Count, TaskCompletionSource Done)> _waiters = [];
        private int _count;

        public void Arrived()
        {
            lock (_lock)
            {
                _count++;
                foreach (var waiter in _waiters.Where(w => w.Count <= _count))
                {
                    waiter.Done.TrySetResult();
                }
            }
        }

        public Task WaitForAsync(int count)
        {
            lock (_lock)
            {
                if (_count >= count)
                {
                    return Task.CompletedTask;
                }

                var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Add((count, done));
                return done.Task.WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
    }
}
