using System.Collections.Concurrent;
using System.Text.Json;
using PresenceGrid.Client;
using System.Net;
using PresenceGrid.Placement;
using PresenceGrid.Testing;
using Xunit.Abstractions;

namespace PresenceGrid.Silo.Tests;

/// <summary>
/// The SDK's owner routing against silo processes on PostgreSQL: every user-keyed request reaches the user's owner (no
/// grain call crosses silos), and when an owner dies the SDK fails over, then routes to the new owners.
/// </summary>
[Collection(nameof(ProcessClusterCollection))]
public sealed class OwnerRoutingClusterTests(OwnerRoutingCluster cluster, ITestOutputHelper output) : IClassFixture<OwnerRoutingCluster>
{
    private const string PlacementPath = "/v1/cluster/placement";

    [Fact]
    public async Task Placement_route_serves_the_runtimes_active_silos_in_order_and_the_user_grain_type()
    {
        SiloProcess silo = cluster.Original[1];
        OwnerRoutingCluster.Placement runtime = await cluster.RuntimePlacementAsync(silo);

        using JsonDocument placement = JsonDocument.Parse(await silo.SendAsync(cluster.Http, HttpMethod.Get, PlacementPath));
        JsonElement[] silos = [.. placement.RootElement.GetProperty("silos").EnumerateArray()];

        Assert.Equal(OwnerPlacementTests.UserGrainType, placement.RootElement.GetProperty("user_grain_type").GetString());
        Assert.Equal(runtime.InPlacementOrder.Select(UserOwnerPlacementDirector.PlacementName), silos.Select(s => $"{s.GetProperty("silo_endpoint").GetString()}@{s.GetProperty("generation").GetInt64()}"));
        Assert.Equal(runtime.InPlacementOrder.Select(a => runtime.Api[a]), silos.Select(s => new Uri(s.GetProperty("http_endpoint").GetString()!)));
    }

    [Fact]
    public async Task Sdk_sends_each_users_requests_to_its_owner_silo_so_no_grain_call_crosses_silos()
    {
        await WithLogsOnFailure(async () =>
        {
            SiloProcess[] silos = cluster.Original;
            HttpClient http = cluster.Http;
            OwnerRoutingCluster.Placement runtime = await cluster.RuntimePlacementAsync(silos[0]);
            string[] users = NewUsers("or", 48);
            string rooms = Guid.NewGuid().ToString("N")[..6];
            for (int i = 0; i < users.Length; i++)
            {
                await silos[i % 3].SendAsync(http, HttpMethod.Put, $"/v1/rooms/{Esc($"!or{rooms}_{i / 4}:or.test")}/members/{Esc(users[i])}", """{"membership":"join"}""");
            }

            // The control: an update sent to a silo that does not own its user is a grain call to another silo, and is counted.
            long before = await cluster.CrossSiloCallsAsync(silos);
            for (int i = 0; i < 12; i++)
            {
                SiloProcess notOwner = silos.First(s => s.Url != runtime.OwnerApi(users[i]));
                await notOwner.SendAsync(http, HttpMethod.Put, $"/v1/presence/{Esc(users[i])}/status", """{"presence":"online","status_msg":"through a non-owner"}""");
            }

            long start = await cluster.CrossSiloCallsAsync(silos);
            Assert.True(start - before >= 12, $"12 updates through non-owners made {start - before} cross-silo calls");

            // The SDK with every silo (owner routing is on by default with several endpoints).
            using var recorder = new RecordingHandler();
            using var sdk = new PresenceGridClient(
                new HttpClient(recorder) { Timeout = Timeout.InfiniteTimeSpan },
                new PresenceGridClientOptions { Endpoints = [.. silos.Select(s => s.Url)] });
            Assert.True(sdk.RoutesToOwner);
            for (int i = 0; i < users.Length; i++)
            {
                await sdk.SetPresenceAsync(users[i], PresenceState.Online, $"s{i}");
                Assert.Equal($"s{i}", (await sdk.GetPresenceAsync(users[i], users[i])).StatusMsg);
                await sdk.MarkActiveAsync(users[i], "D");
                await sdk.SyncAsync(users[i]);
            }

            long end = await cluster.CrossSiloCallsAsync(silos);
            Uri[] userRequests = [.. recorder.Requests.Where(u => u.AbsolutePath != PlacementPath)];
            Assert.Equal(users.Length * 4, userRequests.Length);
            Assert.All(userRequests, u => Assert.Equal(runtime.OwnerApi(UserOf(u)).Port, u.Port));
            Assert.Equal(3, userRequests.Select(u => u.Port).Distinct().Count());
            Assert.Equal(0, end - start);
        });
    }

    [Fact]
    public async Task Sdk_fails_over_when_a_users_owner_silo_dies_and_then_routes_to_the_new_owners()
    {
        await WithLogsOnFailure(async () =>
        {
            SiloProcess[] survivors = cluster.Original;
            HttpClient http = cluster.Http;
            SiloProcess doomed = await cluster.StartSiloAsync();
            foreach (SiloProcess silo in survivors.Append(doomed))
            {
                await cluster.WaitForActiveAsync(silo, [.. survivors, doomed]);
            }

            OwnerRoutingCluster.Placement before = await cluster.RuntimePlacementAsync(survivors[0]);
            string[] users = [.. NewUsers("fo", 400).Where(u => before.OwnerApi(u) == doomed.Url).Take(6)];
            Assert.Equal(6, users.Length);
            using var recorder = new RecordingHandler();
            using var sdk = new PresenceGridClient(
                new HttpClient(recorder) { Timeout = Timeout.InfiniteTimeSpan },
                new PresenceGridClientOptions { Endpoints = [.. survivors.Select(s => s.Url), doomed.Url] });
            foreach (string user in users)
            {
                await sdk.SetPresenceAsync(user, PresenceState.Online, "before the kill");
            }

            Assert.All(recorder.Requests.Where(u => u.AbsolutePath != PlacementPath), u => Assert.Equal(doomed.Url.Port, u.Port));
            int beforeKill = recorder.Requests.Count;

            doomed.Kill();
            foreach (SiloProcess silo in survivors)
            {
                await cluster.WaitForActiveAsync(silo, survivors, TimeSpan.FromSeconds(30));
            }

            // The SDK's view still names the dead owner: the request tries it, then the configured order, and succeeds.
            Assert.Equal("before the kill", (await sdk.GetPresenceAsync(users[0], users[0])).StatusMsg);
            Uri[] afterKill = [.. recorder.Requests.Skip(beforeKill).Where(u => u.AbsolutePath != PlacementPath)];
            Assert.Equal([doomed.Url.Port, survivors[0].Url.Port], afterKill.Select(u => u.Port));
            foreach (string user in users)
            {
                await sdk.SetPresenceAsync(user, PresenceState.Unavailable, "after the kill");
                Assert.Equal("after the kill", (await sdk.GetPresenceAsync(user, user)).StatusMsg);
            }

            // The failure refreshed the SDK's view: the new owners get the requests, and nothing is forwarded.
            await Eventually.TrueAsync(() => sdk.OwnerRouting!.View!.Count == survivors.Length, "the SDK's view drops the dead silo");
            OwnerRoutingCluster.Placement after = await cluster.RuntimePlacementAsync(survivors[0]);
            long start = await cluster.CrossSiloCallsAsync(survivors);
            int mark = recorder.Requests.Count;
            foreach (string user in users)
            {
                await sdk.SetPresenceAsync(user, PresenceState.Online, "routed again");
            }

            Assert.All(recorder.Requests.Skip(mark).Where(u => u.AbsolutePath != PlacementPath), u => Assert.Equal(after.OwnerApi(UserOf(u)), new Uri(u.GetLeftPart(UriPartial.Authority))));
            Assert.Equal(0, await cluster.CrossSiloCallsAsync(survivors) - start);
        });
    }

    [Fact]
    public async Task Pgrid_load_with_route_to_owner_reports_that_every_update_reached_its_owner()
    {
        string[] common = ["--url", .. cluster.Original.Select(s => s.Url.ToString()), "load", "--server", "or.test", "--users", "24", "--room-size", "4", "--seconds", "1", "--concurrency", "2", "--watchers", "0"];

        var routed = await PgridRunner.RunAsync([.. common, "--route-to-owner"]);
        var spread = await PgridRunner.RunAsync(common);

        output.WriteLine(routed.Output);
        output.WriteLine(spread.Output);
        Assert.Equal(0, routed.Exit);
        Assert.Contains("routing: each user's owner silo (SDK owner routing)", routed.Output, StringComparison.Ordinal);
        Assert.Matches(@"updates that reached their owner silo: ([\d,]+) of \1 \(100\.0%\)", routed.Output);
        Assert.Equal(0, spread.Exit);
        Assert.Contains("routing: worker i -> silo i mod 3", spread.Output, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"updates that reached their owner silo: ([\d,]+) of \1 ", spread.Output);
    }

    private static string[] NewUsers(string prefix, int count)
    {
        string run = Guid.NewGuid().ToString("N")[..6];
        return [.. Enumerable.Range(0, count).Select(i => $"@{prefix}{run}_{i}:or.test")];
    }

    private static string Esc(string value) => Uri.EscapeDataString(value);

    /// <summary>The user a recorded request is keyed by: <c>/v1/presence/{user}/…</c> or <c>/v1/sync/{user}</c>.</summary>
    private static string UserOf(Uri request) => Uri.UnescapeDataString(request.AbsolutePath.Split('/')[3]);

    private async Task WithLogsOnFailure(Func<Task> test)
    {
        try
        {
            await test();
        }
        catch
        {
            output.WriteLine(cluster.LogTails());
            throw;
        }
    }

    /// <summary>Records the URI of every request the SDK sends (connection failures included), then sends it.</summary>
    private sealed class RecordingHandler() : DelegatingHandler(new SocketsHttpHandler())
    {
        private readonly ConcurrentQueue<Uri> _requests = new();

        public IReadOnlyList<Uri> Requests => [.. _requests];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            _requests.Enqueue(request.RequestUri!);
            return base.SendAsync(request, cancellationToken);
        }
    }
}

/// <summary>A private PostgreSQL and three silo processes of one cluster, shared by the owner-routing tests.</summary>
public sealed class OwnerRoutingCluster : IAsyncLifetime
{
    private const int LeaseMs = 3000;

    private readonly List<SiloProcess> _silos = [];
    private PostgresServer? _postgres;
    private string _clusterId = string.Empty;

    /// <summary>The API client of the tests.</summary>
    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>The three silos the cluster started with (a test may add and kill others).</summary>
    internal SiloProcess[] Original => [.. _silos.Take(3)];

    public async Task InitializeAsync()
    {
        _postgres = await PostgresServer.StartAsync();
        _clusterId = _postgres.NewClusterId("or");
        for (int i = 0; i < 3; i++)
        {
            _silos.Add(SiloProcess.Start($"or-{i}", "or.test", _postgres.ConnectionString, _clusterId, LeaseMs));
        }

        foreach (SiloProcess silo in _silos)
        {
            await silo.WaitHealthyAsync();
        }

        foreach (SiloProcess silo in _silos)
        {
            await WaitForActiveAsync(silo, [.. _silos]);
        }
    }

    /// <summary>Starts one more silo of the cluster and waits until it serves.</summary>
    internal async Task<SiloProcess> StartSiloAsync()
    {
        SiloProcess silo = SiloProcess.Start($"or-{_silos.Count}", "or.test", _postgres!.ConnectionString, _clusterId, LeaseMs);
        _silos.Add(silo);
        await silo.WaitHealthyAsync();
        return silo;
    }

    /// <summary>Waits until <paramref name="at"/> places grains on exactly <paramref name="active"/> (its placement view lists them).</summary>
    internal Task WaitForActiveAsync(SiloProcess at, SiloProcess[] active, TimeSpan? timeout = null)
    {
        string[] expected = [.. active.Select(s => s.Name).Order(StringComparer.Ordinal)];
        return Eventually.TrueAsync(
            async () =>
            {
                using JsonDocument placement = JsonDocument.Parse(await at.SendAsync(Http, HttpMethod.Get, "/v1/cluster/placement"));
                return placement.RootElement.GetProperty("silos").EnumerateArray().Select(s => s.GetProperty("name").GetString()!).Order(StringComparer.Ordinal).SequenceEqual(expected);
            },
            $"{at.Name} to place grains on {string.Join(", ", expected)}",
            timeout ?? TimeSpan.FromSeconds(20));
    }

    /// <summary>
    /// The silo's own placement (<see cref="UserOwnerPlacementDirector"/>) over the active silos that <c>/v1/admin/cluster</c>
    /// reports on <paramref name="at"/>, with each silo's API endpoint.
    /// </summary>
    internal async Task<Placement> RuntimePlacementAsync(SiloProcess at)
    {
        using JsonDocument status = JsonDocument.Parse(await at.SendAsync(Http, HttpMethod.Get, "/v1/admin/cluster"));
        var api = new Dictionary<SiloAddress, Uri>();
        foreach (JsonElement silo in status.RootElement.GetProperty("silos").EnumerateArray())
        {
            var address = SiloAddress.New(IPEndPoint.Parse(silo.GetProperty("silo_endpoint").GetString()!), (int)silo.GetProperty("generation").GetInt64());
            Assert.Equal(UserOwnerPlacementDirector.PlacementName(address), silo.GetProperty("address").GetString());
            if (silo.GetProperty("status").GetString() == "active")
            {
                api[address] = new Uri(silo.GetProperty("http_endpoint").GetString()!);
            }
        }

        return new Placement(api);
    }

    /// <summary>User grain calls that crossed silos (<c>presencegrid.presence.user_calls.remote</c>), summed over <paramref name="silos"/>.</summary>
    internal async Task<long> CrossSiloCallsAsync(IEnumerable<SiloProcess> silos)
    {
        long sum = 0;
        foreach (SiloProcess silo in silos)
        {
            sum += await silo.MetricAsync(Http, PresenceGrid.Cli.SiloMetricNames.RemoteUserCalls);
        }

        return sum;
    }

    internal string LogTails() => string.Join('\n', _silos.Select(s => $"--- {s.Name} log tail ---\n{s.LogTail()}"));

    public async Task DisposeAsync()
    {
        foreach (SiloProcess silo in _silos)
        {
            silo.Dispose();
        }

        Http.Dispose();
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
    }

    /// <summary>The active silos' API endpoints, which the silos' placement chooses among.</summary>
    internal sealed record Placement(IReadOnlyDictionary<SiloAddress, Uri> Api)
    {
        /// <summary>The active silos in placement order.</summary>
        public IEnumerable<SiloAddress> InPlacementOrder => Api.Keys.OrderBy(UserOwnerPlacementDirector.PlacementName, StringComparer.Ordinal);

        /// <summary>The API endpoint of the silo that owns <paramref name="user"/>'s grain.</summary>
        public Uri OwnerApi(string user) => Api[UserOwnerPlacementDirector.Owner(GrainId.Create(OwnerPlacementTests.UserGrainType, user), [.. Api.Keys])];
    }
}
