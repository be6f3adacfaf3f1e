using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using PresenceGrid.Grains;
using PresenceGrid.Hosting;
using PresenceGrid.Invocation;
using PresenceGrid.Matrix;
using PresenceGrid.Testing;
using Xunit.Abstractions;

namespace PresenceGrid.Runtime.Postgres.Tests;

/// <summary>Presence on a cluster of silos on PostgreSQL and the Kestrel transport: failover, durability, outages.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PresenceClusterTests(PostgresFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(2);

    private Task<InProcessTestCluster> DeployAsync(int silos, string clusterId) =>
        new InProcessTestClusterBuilder(silos)
            .UseClustering((options, silo, cluster) =>
            {
                silo.UsePostgresClustering(
                    o =>
                    {
                        o.ConnectionString = fixture.Server.ConnectionString;
                        o.ClusterId = clusterId;
                        o.ApplicationName = options.SiloName;
                    },
                    cluster);
                silo.UseSiloTransport(t =>
                {
                    t.ClusterId = clusterId;
                    t.Secret = "postgres-cluster-test-secret";
                });
            })
            .ConfigureCluster(o => o.LeaseTime = Lease)
            .ConfigureSilo((_, silo) => silo.AddGrainAssembly(PresenceGrains.Assembly))
            .ConfigureServices((_, services) => services.AddPresenceGrid(o =>
            {
                o.ServerNames.Add("test");
                o.Timings.RatelimitPerSecond = 0;
            }))
            .DeployAsync();

    private static PresenceService Presence(InProcessSiloHandle silo) => silo.Services.GetRequiredService<PresenceService>();

    [Fact]
    public async Task Killing_a_silo_moves_its_users_with_their_state_within_twice_the_lease_and_sync_goes_on()
    {
        string clusterId = fixture.Server.NewClusterId();
        await using InProcessTestCluster cluster = await DeployAsync(3, clusterId);
        IReadOnlyList<InProcessSiloHandle> silos = cluster.GetActiveSilos();
        string[] users = [.. Enumerable.Range(0, 30).Select(i => $"@p{i}:test")];
        for (int i = 0; i < users.Length; i++)
        {
            await Presence(silos[i % 3]).SetMembershipAsync("!pg:test", users[i], "join");
            await Presence(silos[(i + 1) % 3]).SetPresenceAsync(users[i], new PresenceStatusRequest(PresenceState.Online, "status " + i));
        }

        InProcessSiloHandle victim = silos[1];
        string userType = GrainTypeManifest.GrainInterface<IUserPresenceGrain>.GrainType;
        string moved = users.First(u => victim.HasActivation(new GrainId(userType, u)));
        string token = (await Presence(silos[0]).SyncAsync(users[0])).NextBatch;

        var failover = Stopwatch.StartNew();
        await cluster.KillSiloAsync(victim);
        UserPresenceState? restored = null;
        while (restored is null)
        {
            try
            {
                restored = await Presence(silos[2]).GetPresenceAsync(moved, moved).WaitAsync(TimeSpan.FromSeconds(1));
            }
            catch (Exception exception) when (exception is SiloUnavailableException or TimeoutException)
            {
                Assert.True(failover.Elapsed < Lease * 4, $"no failover after {failover.Elapsed}: {exception.Message}");
                await Task.Delay(20);
            }
        }

        failover.Stop();
        output.WriteLine($"failover (kill to first served request for a moved user): {failover.ElapsedMilliseconds} ms, lease {Lease.TotalMilliseconds} ms");
        Assert.True(failover.Elapsed <= Lease * 2, $"failover took {failover.ElapsedMilliseconds} ms, more than twice the lease");
        Assert.Equal("status " + Array.IndexOf(users, moved), restored.StatusMsg);

        await cluster.WaitForLivenessToStabilizeAsync();
        await Presence(silos[2]).SetPresenceAsync(moved, new PresenceStatusRequest(PresenceState.Unavailable, "moved"));
        IReadOnlyList<UserPresenceState> events = [];
        var deadline = Stopwatch.StartNew();
        while (!events.Any(e => e.UserId.ToString() == moved && e.StatusMsg == "moved") && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            events = (await Presence(silos[0]).SyncAsync(users[0], token, timeout: TimeSpan.FromMilliseconds(200))).Events;
        }

        Assert.Contains(events, e => e.UserId.ToString() == moved && e.StatusMsg == "moved");

        // Durable facts: every membership and every acknowledged status is in the database, each grain registered once.
        await using var connection = await OpenAsync(clusterId);
        Assert.Equal(users.Length, await CountAsync(connection, "SELECT count(*) FROM grain_state WHERE state_name = 'presence' AND data IS NOT NULL"));
        string room = await ScalarAsync<string>(connection, "SELECT convert_from(data, 'UTF8') FROM grain_state WHERE state_name = 'room'");
        Assert.All(users, u => Assert.Contains(u, room));
        Assert.Equal(0, await CountAsync(connection, $"SELECT count(*) FROM grain_directory d JOIN silo s ON s.silo_id = d.silo_id AND s.epoch = d.silo_epoch WHERE s.status = 4 AND d.grain_id = '{userType}/{moved}'"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3000)]
    public async Task A_PostgreSQL_restart_under_load_loses_nothing_acknowledged(int downtimeMs)
    {
        string clusterId = fixture.Server.NewClusterId();
        await using InProcessTestCluster cluster = await DeployAsync(2, clusterId);
        string[] users = [.. Enumerable.Range(0, 16).Select(i => $"@r{i}:test")];
        var acknowledged = new ConcurrentDictionary<string, int>();
        int failures = 0;
        long acknowledgedCount = 0;
        var errors = new ConcurrentBag<string>();
        using var stop = new CancellationTokenSource();
        async Task Load(int worker)
        {
            int n = 0;
            while (!stop.IsCancellationRequested)
            {
                IReadOnlyList<InProcessSiloHandle> live = cluster.GetActiveSilos();
                string user = users[(worker + (n * 2)) % users.Length];
                n++;
                try
                {
                    await Presence(live[n % live.Count]).SetPresenceAsync(user, new PresenceStatusRequest(PresenceState.Online, n.ToString(System.Globalization.CultureInfo.InvariantCulture))).WaitAsync(TimeSpan.FromSeconds(10));
                    acknowledged.AddOrUpdate(user, n, (_, old) => Math.Max(old, n));
                    Interlocked.Increment(ref acknowledgedCount);
                }
                catch (Exception exception) when (exception is PresenceGridException or TimeoutException or NpgsqlException)
                {
                    Interlocked.Increment(ref failures);
                    errors.Add(exception.GetType().Name + ": " + exception.Message);
                    await Task.Delay(20);
                }
            }
        }

        // Each user is written by one worker only, so its acknowledged numbers only grow.
        Task[] load = [.. Enumerable.Range(0, 2).Select(w => Task.Run(() => Load(w)))];
        await Eventually.TrueAsync(() => Interlocked.Read(ref acknowledgedCount) >= 200, "updates acknowledged before the restart");
        await fixture.Server.RestartAsync(TimeSpan.FromMilliseconds(downtimeMs));
        long atRestart = Interlocked.Read(ref acknowledgedCount);
        await Eventually.TrueAsync(() => Interlocked.Read(ref acknowledgedCount) >= atRestart + 500, "updates acknowledged after the restart", TimeSpan.FromSeconds(20));
        stop.Cancel();
        await Task.WhenAll(load);
        output.WriteLine($"down {downtimeMs} ms; acknowledged updates per user: {string.Join(", ", acknowledged.Values)}; calls failed during the outage: {failures}");
        foreach (string error in errors.Distinct().Take(5))
        {
            output.WriteLine("  " + error);
        }

        if (downtimeMs > Lease.TotalMilliseconds)
        {
            Assert.True(failures > 0, "a database outage longer than the lease must make calls fail (clearly), not hang");
        }
        Assert.True(cluster.GetActiveSilos().Count == 2, "both silos rode out the restart");

        await using var connection = await OpenAsync(clusterId);
        foreach ((string user, int last) in acknowledged)
        {
            string json = await ScalarAsync<string>(connection, $"SELECT convert_from(data, 'UTF8') FROM grain_state WHERE state_name = 'presence' AND grain_id = '{GrainTypeManifest.GrainInterface<IUserPresenceGrain>.GrainType}/{user}'");
            var record = JsonSerializer.Deserialize<PresenceRecord>(json)!;
            Assert.True(int.Parse(record.StatusMsg!, System.Globalization.CultureInfo.InvariantCulture) >= last, $"{user}: stored {record.StatusMsg}, acknowledged {last}");
        }
    }

    [Fact]
    public async Task Elastic_chaos_on_PostgreSQL_keeps_one_directory_entry_per_grain_and_every_acknowledged_fact()
    {
        string clusterId = fixture.Server.NewClusterId();
        await using InProcessTestCluster cluster = await DeployAsync(3, clusterId);
        string[] users = [.. Enumerable.Range(0, 24).Select(i => $"@e{i}:test")];
        var statuses = new ConcurrentDictionary<string, int>();
        var joined = new ConcurrentDictionary<string, string>();
        using var stop = new CancellationTokenSource();
        async Task Load(int worker)
        {
            int n = 0;
            while (!stop.IsCancellationRequested)
            {
                IReadOnlyList<InProcessSiloHandle> live = cluster.GetActiveSilos();
                string user = users[(worker + (n * 3)) % users.Length];
                n++;
                if (live.Count == 0)
                {
                    await Task.Delay(5);
                    continue;
                }

                try
                {
                    PresenceService presence = Presence(live[n % live.Count]);
                    if (n % 4 == 0)
                    {
                        await presence.SetMembershipAsync($"!e{n % 5}:test", user, "join").WaitAsync(TimeSpan.FromSeconds(10));
                        joined[$"!e{n % 5}:test|{user}"] = user;
                    }
                    else
                    {
                        await presence.SetPresenceAsync(user, new PresenceStatusRequest(PresenceState.Online, n.ToString(System.Globalization.CultureInfo.InvariantCulture))).WaitAsync(TimeSpan.FromSeconds(10));
                        statuses.AddOrUpdate(user, n, (_, old) => Math.Max(old, n));
                    }
                }
                catch (Exception exception) when (exception is PresenceGridException or TimeoutException or ObjectDisposedException or InvalidOperationException)
                {
                    // Unknown outcome while silos come and go; only acknowledged facts are checked.
                }
            }
        }

        Task[] load = [.. Enumerable.Range(0, 3).Select(w => Task.Run(() => Load(w)))];
        await cluster.RunChaosAsync(new Random(5), rounds: 6, interval: TimeSpan.FromMilliseconds(400));
        stop.Cancel();
        await Task.WhenAll(load);
        output.WriteLine($"acknowledged: {statuses.Count} users' statuses, {joined.Count} memberships; silos now {string.Join(", ", cluster.GetActiveSilos())}");

        await using var connection = await OpenAsync(clusterId);
        string userType = GrainTypeManifest.GrainInterface<IUserPresenceGrain>.GrainType;
        foreach (string user in users)
        {
            var id = new GrainId(userType, user);
            Assert.True(cluster.GetActiveSilos().Count(s => s.HasActivation(id)) <= 1, $"{user} is active twice");
        }

        // Directory entries of live activations point at their silo; none points at a live silo that lacks the activation.
        await using (var command = new NpgsqlCommand("SELECT d.grain_id, s.status FROM grain_directory d JOIN silo s ON s.silo_id = d.silo_id AND s.epoch = d.silo_epoch", connection))
        await using (NpgsqlDataReader reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                string grain = reader.GetString(0);
                if (reader.GetInt16(1) != 4 && grain.StartsWith(userType + "/", StringComparison.Ordinal))
                {
                    var id = GrainId.Parse(grain);
                    Assert.Equal(1, cluster.GetActiveSilos().Count(s => s.HasActivation(id)));
                }
            }
        }

        foreach ((string user, int last) in statuses)
        {
            string json = await ScalarAsync<string>(connection, $"SELECT convert_from(data, 'UTF8') FROM grain_state WHERE state_name = 'presence' AND grain_id = '{userType}/{user}'");
            var record = JsonSerializer.Deserialize<PresenceRecord>(json)!;
            Assert.True(int.Parse(record.StatusMsg!, System.Globalization.CultureInfo.InvariantCulture) >= last, $"{user}: stored {record.StatusMsg}, acknowledged {last}");
        }

        foreach ((string key, string user) in joined)
        {
            string room = key.Split('|')[0];
            string json = await ScalarAsync<string>(connection, $"SELECT convert_from(data, 'UTF8') FROM grain_state WHERE state_name = 'room' AND grain_id = 'room/{room}'");
            Assert.Contains($"\"{user}\":\"join\"", json);
        }
    }

    private async Task<NpgsqlConnection> OpenAsync(string clusterId)
    {
        var builder = new NpgsqlConnectionStringBuilder(fixture.Server.ConnectionString) { SearchPath = new PostgresClusterOptions { ClusterId = clusterId }.SchemaName };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    private static async Task<long> CountAsync(NpgsqlConnection connection, string sql) => await ScalarAsync<long>(connection, sql);

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
