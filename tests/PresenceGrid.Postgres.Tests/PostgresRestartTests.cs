using System.Collections.Concurrent;
using Orleans.TestingHost;
using PresenceGrid.Testing;

namespace PresenceGrid.Postgres.Tests;

/// <summary>A cluster on PostgreSQL rides out a database restart: no silo is declared dead and nothing acknowledged is lost.</summary>
public sealed class PostgresRestartTests
{
    [Fact]
    public async Task A_postgres_restart_under_load_loses_no_acknowledged_write_and_every_silo_stays_active()
    {
        // A server of its own: restarting the shared one would disturb the other test classes.
        await using PostgresServer server = await PostgresServer.StartAsync();
        var builder = new TestClusterBuilder(2);
        builder.Options.UseTestClusterMembership = false;
        builder.Options.ConfigureFileLogging = false;
        builder.Properties[ClusterConfigurators.ConnectionStringKey] = server.ConnectionString;
        builder.AddSiloBuilderConfigurator<ClusterConfigurators.StorageSiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClusterConfigurators.ClientConfigurator>();
        await using TestCluster cluster = builder.Build();
        await cluster.DeployAsync();

        var acknowledged = new ConcurrentDictionary<int, int>();
        long failures = 0;
        using var stop = new CancellationTokenSource();
        async Task WriteLoop(int worker)
        {
            for (int n = 1; !stop.IsCancellationRequested; n++)
            {
                int key = (worker * 100) + (n % 20);
                try
                {
                    await cluster.Client.GetGrain<IStatefulGrain>(key).Set(n);
                    acknowledged[key] = n; // each key has one writer, so its values only grow
                }
                catch (Exception exception) when (exception is not OutOfMemoryException)
                {
                    // The database is down: the write was not acknowledged, so it is not counted.
                    Interlocked.Increment(ref failures);
                    await Task.Delay(20);
                }
            }
        }

        Task[] writers = [.. Enumerable.Range(0, 4).Select(w => Task.Run(() => WriteLoop(w)))];
        await Eventually.TrueAsync(() => acknowledged.Count >= 40, "writes before the restart", TimeSpan.FromSeconds(30));
        await server.RestartAsync(TimeSpan.FromSeconds(3));
        int afterRestart = acknowledged.Values.Sum();
        await Eventually.TrueAsync(() => acknowledged.Values.Sum() > afterRestart + 200, "writes acknowledged again after the restart", TimeSpan.FromSeconds(60));
        stop.Cancel();
        await Task.WhenAll(writers);

        Assert.True(Interlocked.Read(ref failures) > 0, "the restart should have failed some writes (else it tested nothing)");
        IManagementGrain management = cluster.Client.GetGrain<IManagementGrain>(0);
        Assert.Equal(2, (await management.GetHosts(onlyActive: true)).Count);
        foreach ((int key, int value) in acknowledged)
        {
            // First as the activations hold it, then (below) read back from the database by fresh activations.
            IStatefulGrain grain = cluster.Client.GetGrain<IStatefulGrain>(key);
            Assert.True(await grain.Get() >= value, $"grain {key}: acknowledged {value}");
        }

        await management.ForceActivationCollection(TimeSpan.Zero);
        foreach ((int key, int value) in acknowledged)
        {
            Assert.True(await cluster.Client.GetGrain<IStatefulGrain>(key).Get() >= value, $"grain {key} after reactivation: acknowledged {value}");
        }
    }
}
