using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using PresenceGrid.Testing;
using Xunit.Abstractions;

namespace PresenceGrid.Silo.Tests;

/// <summary>
/// Three silo processes and a private PostgreSQL on loopback, driven from outside through the HTTP
/// API: a kill -9 of one silo loses nothing durable, and the others serve its users.
/// </summary>
[Collection(nameof(ProcessClusterCollection))]
public sealed class MultiProcessClusterTests(ITestOutputHelper output)
{
    private const int LeaseMs = 3000;

    [Fact]
    public async Task Three_silo_processes_on_PostgreSQL_survive_a_kill_9_of_one()
    {
        await using PostgresServer postgres = await PostgresServer.StartAsync();
        string clusterId = postgres.NewClusterId("mp");
        var silos = new List<SiloProcess>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                silos.Add(SiloProcess.Start($"mp-{i}", "mp.test", postgres.ConnectionString, clusterId, LeaseMs));
            }

            foreach (SiloProcess silo in silos)
            {
                await silo.WaitHealthyAsync();
            }

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            await UntilAsync(async () => (await ClusterAsync(http, silos[0])).Count(s => s.Status == "active") == 3, "three active silos");

            string[] users = [.. Enumerable.Range(0, 30).Select(i => $"@mp{i}:mp.test")];
            for (int i = 0; i < users.Length; i++)
            {
                await SendAsync(http, HttpMethod.Put, silos[i % 3], $"/v1/rooms/{Esc("!mp:mp.test")}/members/{Esc(users[i])}", """{"membership":"join"}""");
                await SendAsync(http, HttpMethod.Put, silos[(i + 1) % 3], $"/v1/presence/{Esc(users[i])}/status", $$"""{"presence":"online","status_msg":"s{{i}}"}""");
            }

            string token = JsonDocument.Parse(await SendAsync(http, HttpMethod.Get, silos[1], $"/v1/sync/{Esc(users[0])}")).RootElement.GetProperty("next_batch").GetString()!;

            // Any silo reports every silo's status and activation count.
            using (JsonDocument status = JsonDocument.Parse(await SendAsync(http, HttpMethod.Get, silos[1], "/v1/admin/cluster")))
            {
                JsonElement[] entries = [.. status.RootElement.GetProperty("silos").EnumerateArray()];
                Assert.Equal(3, entries.Length);
                Assert.All(entries, e => Assert.True(e.GetProperty("activations").GetInt64() > 0, e.ToString()));
                Assert.Single(entries, e => e.GetProperty("self").GetBoolean());
            }

            // The SDK: connected to the silo that will die first, with the others to fail over to;
            // a watch on it must resume elsewhere from its token.
            var sdkOptions = new PresenceGrid.Client.PresenceGridClientOptions();
            sdkOptions.Endpoints.Add(silos[2].Url);
            sdkOptions.Endpoints.Add(silos[0].Url);
            using var sdk = new PresenceGrid.Client.PresenceGridClient(sdkOptions);
            using var watchStop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var watched = new ConcurrentQueue<string>();
            Task watch = Task.Run(async () =>
            {
                try
                {
                    await foreach (PresenceGrid.Client.SyncBatch batch in sdk.WatchAsync(users[1], null, watchStop.Token))
                    {
                        foreach (PresenceGrid.Client.PresenceEvent ev in batch.Events)
                        {
                            watched.Enqueue(ev.Content.StatusMsg ?? "");
                        }
                    }
                }
                catch (OperationCanceledException)
                {
                }
            });
            await UntilAsync(() => Task.FromResult(watched.Contains("s3")), "the watch's first batch");

            var failover = Stopwatch.StartNew();
            silos[2].Kill();
            await UntilAsync(async () => (await ClusterAsync(http, silos[0])).Any(s => s.Name == "mp-2" && s.Status == "dead"), "the killed silo is declared dead", TimeSpan.FromSeconds(20));
            output.WriteLine($"declared dead after {failover.ElapsedMilliseconds} ms (lease {LeaseMs} ms)");

            // Every user, wherever its grain lived, is served by the survivors with its stored state.
            for (int i = 0; i < users.Length; i++)
            {
                string body = await SendAsync(http, HttpMethod.Get, silos[i % 2], $"/v1/presence/{Esc(users[i])}/status?requester={Esc(users[i])}");
                using JsonDocument doc = JsonDocument.Parse(body);
                Assert.Equal("s" + i.ToString(CultureInfo.InvariantCulture), doc.RootElement.GetProperty("status_msg").GetString());
            }

            output.WriteLine($"all users served again {failover.ElapsedMilliseconds} ms after the kill");
            Assert.True(failover.Elapsed <= TimeSpan.FromMilliseconds((2 * LeaseMs) + 15_000), $"users served again only {failover.ElapsedMilliseconds} ms after the kill (goal: 2 × lease + 15 s)");

            // The SDK fails over to a survivor, and its watch resumes there.
            Assert.Equal("s7", (await sdk.GetPresenceAsync(users[7], users[7])).StatusMsg);
            await sdk.SetPresenceAsync(users[9], PresenceGrid.Client.PresenceState.Online, "via the sdk after the kill");
            await UntilAsync(() => Task.FromResult(watched.Contains("via the sdk after the kill")), "the resumed watch sees a change made after the kill", TimeSpan.FromSeconds(30));
            await watchStop.CancelAsync();
            await watch;

            // Routing and sync go on: a change through one survivor reaches an incremental sync on the other.
            await SendAsync(http, HttpMethod.Put, silos[0], $"/v1/presence/{Esc(users[5])}/status", """{"presence":"unavailable","status_msg":"after the kill"}""");
            await UntilAsync(async () =>
            {
                string sync = await SendAsync(http, HttpMethod.Get, silos[1], $"/v1/sync/{Esc(users[0])}?since={Esc(token)}&timeout=200");
                return sync.Contains("after the kill", StringComparison.Ordinal);
            }, "the change reaches a sync on the other survivor");
        }
        finally
        {
            foreach (SiloProcess silo in silos)
            {
                silo.Dispose();
                output.WriteLine($"--- {silo.Name} log tail ---\n{silo.LogTail()}");
            }
        }
    }

    private static string Esc(string value) => Uri.EscapeDataString(value);

    private static Task<string> SendAsync(HttpClient http, HttpMethod method, SiloProcess silo, string path, string? json = null) =>
        silo.SendAsync(http, method, path, json);

    private static async Task<List<(string Name, string Status)>> ClusterAsync(HttpClient http, SiloProcess silo)
    {
        using JsonDocument doc = JsonDocument.Parse(await SendAsync(http, HttpMethod.Get, silo, "/v1/admin/cluster"));
        return [.. doc.RootElement.GetProperty("silos").EnumerateArray().Select(s => (s.GetProperty("name").GetString()!, s.GetProperty("status").GetString()!))];
    }

    private static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        TimeSpan limit = timeout ?? TimeSpan.FromSeconds(15);
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (Exception exception) when (exception is HttpRequestException or Xunit.Sdk.XunitException && deadline.Elapsed < limit)
            {
            }

            Assert.True(deadline.Elapsed < limit, $"Timed out after {limit.TotalSeconds:0} s waiting for {what}.");
            await Task.Delay(50);
        }
    }
}
