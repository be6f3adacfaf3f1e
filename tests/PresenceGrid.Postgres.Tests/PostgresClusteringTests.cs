using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Hosting;
using Orleans.TestingHost;
using PresenceGrid.Postgres.Hosting;
using Xunit.Abstractions;

namespace PresenceGrid.Postgres.Tests;

/// <summary>
/// Orleans' own membership protocol over PostgreSQL: two silos and a client configured only with
/// UsePostgresClustering, on a fresh database each.
/// </summary>
/// <remarks>
/// Built with <see cref="TestClusterBuilder"/> with <c>UseTestClusterMembership = false</c>, as
/// Orleans' own ADO.NET liveness tests are: <c>InProcessTestClusterBuilder</c> (10.4.2) always
/// registers its in-memory membership table and gateway list after the test's configuration (its
/// switch is internal), so its silos would never read PostgreSQL.
/// An in-process <c>KillSiloAsync</c> stops the silo with a cancelled token, and Orleans 10.4.2
/// still writes its Stopping and Dead status on that path (MembershipAgent): the survivor learns of
/// the death from the table rather than from missed probes. Detection of a crash that writes
/// nothing needs a process killed outright (the multi-process test of a later step).
/// </remarks>
[Collection(PostgresCollection.Name)]
public sealed class PostgresClusteringTests(PostgresFixture fixture, ITestOutputHelper output)
{
    private const int ActiveStatus = 3;
    private const int DeadStatus = 6;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_killed_silos_grain_answers_again_from_the_survivor_and_the_table_marks_it_dead()
    {
        string connectionString = await fixture.CreateDatabaseAsync("cluster_kill");
        var builder = new TestClusterBuilder(2);
        builder.Options.UseTestClusterMembership = false;
        builder.Options.ConfigureFileLogging = false;
        builder.Properties[ClusterConfigurators.ConnectionStringKey] = connectionString;
        builder.AddSiloBuilderConfigurator<ClusterConfigurators.SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClusterConfigurators.ClientConfigurator>();
        await using TestCluster cluster = builder.Build();
        await cluster.DeployAsync();
        string clusterId = cluster.Options.ClusterId;

        // The cluster formed through PostgreSQL: both silos are Active rows of this cluster.
        Assert.Equal(2, cluster.Silos.Count);
        foreach (SiloHandle silo in cluster.Silos)
        {
            Assert.Equal(ActiveStatus, await StatusAsync(connectionString, clusterId, silo.SiloAddress));
        }

        ISiloAddressGrain grain = cluster.Client.GetGrain<ISiloAddressGrain>(0);
        SiloAddress firstHost = await grain.GetSiloAddress();
        SiloHandle victim = Assert.Single(cluster.Silos, s => s.SiloAddress.Equals(firstHost));
        SiloHandle survivor = Assert.Single(cluster.Silos, s => !s.SiloAddress.Equals(firstHost));

        var sinceKill = Stopwatch.StartNew();
        await cluster.KillSiloAsync(victim);
        TimeSpan killReturned = sinceKill.Elapsed;
        SiloAddress secondHost = await AnswerFromAnotherSiloAsync(grain, firstHost, sinceKill);
        TimeSpan answered = sinceKill.Elapsed;
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"KillSiloAsync returned after {killReturned.TotalMilliseconds:F0} ms; the grain answered again from {secondHost} {answered.TotalMilliseconds:F0} ms after the kill began."));

        Assert.Equal(survivor.SiloAddress, secondHost);
        await WaitForStatusAsync(connectionString, clusterId, victim.SiloAddress, DeadStatus);
        Assert.Equal(ActiveStatus, await StatusAsync(connectionString, clusterId, survivor.SiloAddress));
    }

    [Fact]
    public async Task A_client_applies_the_schema_before_it_first_reads_the_gateway_list()
    {
        string connectionString = await fixture.CreateDatabaseAsync("client_only");
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleansClient(client => client
            .UsePostgresClustering(options => options.ConnectionString = connectionString)
            .UseConnectionRetryFilter((_, _) => Task.FromResult(false))); // fail at once instead of retrying for minutes
        using IHost host = builder.Build();

        // No silo runs on this empty database, so the client cannot start; but it finds an empty
        // gateway list, not a missing OrleansQuery table, and leaves the schema in place.
        Orleans.Runtime.SiloUnavailableException error = await Assert.ThrowsAsync<Orleans.Runtime.SiloUnavailableException>(() => host.StartAsync());
        Assert.Contains("Could not find any gateway", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, await PostgresFixture.ScalarAsync<int>(connectionString, "SELECT version FROM presencegrid_schema WHERE part = 'orleans-clustering'"));
    }

    /// <summary>Calls the grain until it answers from a silo other than <paramref name="deadHost"/> (bounded; calls fail while the dead silo is not yet declared dead).</summary>
    internal static async Task<SiloAddress> AnswerFromAnotherSiloAsync(ISiloAddressGrain grain, SiloAddress deadHost, Stopwatch sinceKill)
    {
        Exception? lastFailure = null;
        while (sinceKill.Elapsed < Deadline)
        {
            try
            {
                SiloAddress host = await grain.GetSiloAddress();
                if (!host.Equals(deadHost))
                {
                    return host;
                }
            }
            catch (Exception ex) when (ex is OrleansException or TimeoutException)
            {
                lastFailure = ex;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"The grain did not answer from another silo within {Deadline.TotalSeconds} s of the kill. Last failure: {lastFailure}");
    }

    private static async Task WaitForStatusAsync(string connectionString, string clusterId, SiloAddress silo, int expected)
    {
        var waited = Stopwatch.StartNew();
        int? status;
        while ((status = await StatusAsync(connectionString, clusterId, silo)) != expected && waited.Elapsed < Deadline)
        {
            await Task.Delay(20);
        }

        Assert.True(status == expected, $"Silo {silo}'s row has status {status?.ToString(CultureInfo.InvariantCulture) ?? "(none)"}, not {expected}, after {Deadline.TotalSeconds} s.");
    }

    private static Task<int?> StatusAsync(string connectionString, string clusterId, SiloAddress silo) =>
        PostgresFixture.ScalarAsync<int?>(
            connectionString,
            "SELECT Status FROM OrleansMembershipTable WHERE DeploymentId = @cluster AND Address = @address AND Port = @port AND Generation = @generation",
            ("cluster", clusterId),
            ("address", silo.Endpoint.Address.ToString()),
            ("port", silo.Endpoint.Port),
            ("generation", silo.Generation));
}
