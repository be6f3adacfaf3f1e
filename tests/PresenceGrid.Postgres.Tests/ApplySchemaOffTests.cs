using Orleans.TestingHost;
using PresenceGrid.Postgres.Schema;

namespace PresenceGrid.Postgres.Tests;

/// <summary>
/// <c>PostgresClusteringOptions.ApplySchema = false</c>: the schema comes from <c>pgrid db migrate</c> run ahead of
/// time; a silo only checks it at start and refuses to start, before it writes anything, when it is not in place.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ApplySchemaOffTests(PostgresFixture fixture)
{
    [Fact]
    public async Task With_ApplySchema_off_a_silo_on_a_database_without_the_schema_fails_to_start_saying_to_run_pgrid_db_migrate()
    {
        string connectionString = await fixture.CreateDatabaseAsync("apply_off_missing");
        await using TestCluster cluster = Builder(connectionString).Build();

        Exception error = await Assert.ThrowsAnyAsync<Exception>(() => cluster.DeployAsync());

        string messages = string.Join(" | ", Chain(error).Select(e => e.Message));
        Assert.Contains("pgrid db migrate", messages, StringComparison.Ordinal);
        Assert.Contains("orleans-clustering is at no version, this build needs 1", messages, StringComparison.Ordinal);

        // Nothing was created: no bookkeeping table, no membership table.
        Assert.False(await PostgresFixture.ScalarAsync<bool>(connectionString, "SELECT to_regclass('presencegrid_schema') IS NOT NULL"));
        Assert.False(await PostgresFixture.ScalarAsync<bool>(connectionString, "SELECT to_regclass('orleansmembershiptable') IS NOT NULL"));
    }

    [Fact]
    public async Task With_ApplySchema_off_a_cluster_starts_on_a_database_migrated_ahead_of_time()
    {
        string connectionString = await fixture.CreateDatabaseAsync("apply_off_migrated");
        await PostgresSchema.ApplyAsync(connectionString, CancellationToken.None);
        await using TestCluster cluster = Builder(connectionString).Build();

        await cluster.DeployAsync();

        ISiloAddressGrain grain = cluster.Client.GetGrain<ISiloAddressGrain>(0);
        Assert.Equal(cluster.Silos[0].SiloAddress, await grain.GetSiloAddress());
        Assert.Equal(
            1L,
            await PostgresFixture.ScalarAsync<long>(
                connectionString, "SELECT count(*) FROM OrleansMembershipTable WHERE DeploymentId = @cluster AND Status = 3", ("cluster", cluster.Options.ClusterId)));
    }

    private static TestClusterBuilder Builder(string connectionString)
    {
        var builder = new TestClusterBuilder(1);
        builder.Options.UseTestClusterMembership = false;
        builder.Options.ConfigureFileLogging = false;
        builder.Properties[ClusterConfigurators.ConnectionStringKey] = connectionString;
        builder.Properties[ClusterConfigurators.ApplySchemaKey] = "false";
        builder.AddSiloBuilderConfigurator<ClusterConfigurators.SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClusterConfigurators.ClientConfigurator>();
        return builder;
    }

    private static IEnumerable<Exception> Chain(Exception error)
    {
        yield return error;
        IEnumerable<Exception> inner = error switch
        {
            AggregateException aggregate => aggregate.InnerExceptions,
            { InnerException: { } one } => [one],
            _ => [],
        };
        foreach (Exception exception in inner.SelectMany(Chain))
        {
            yield return exception;
        }
    }
}
