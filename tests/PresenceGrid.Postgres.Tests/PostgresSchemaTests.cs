using Npgsql;
using PresenceGrid.Postgres.Schema;

namespace PresenceGrid.Postgres.Tests;

[Collection(PostgresCollection.Name)]
public sealed class PostgresSchemaTests(PostgresFixture fixture)
{
    /// <summary>
    /// The query keys Orleans.Clustering.AdoNet 10.4.2 reads from OrleansQuery (its DbStoredQueries):
    /// a missing one stops every silo, except CleanupDefunctSiloEntryKey, which it uses when present.
    /// </summary>
    private static readonly string[] ClusteringQueryKeys =
    [
        "CleanupDefunctSiloEntriesKey",
        "CleanupDefunctSiloEntryKey",
        "DeleteMembershipTableEntriesKey",
        "GatewaysQueryKey",
        "InsertMembershipKey",
        "InsertMembershipVersionKey",
        "MembershipReadAllKey",
        "MembershipReadRowKey",
        "UpdateIAmAlivetimeKey",
        "UpdateMembershipKey",
    ];

    [Fact]
    public async Task Applying_twice_succeeds_and_the_second_run_repairs_a_changed_query()
    {
        string connectionString = await fixture.CreateDatabaseAsync("schema_twice");

        IReadOnlyList<SchemaPartOutcome> first = await PostgresSchema.ApplyAsync(connectionString, CancellationToken.None);
        await ExecuteAsync(connectionString, "UPDATE OrleansQuery SET QueryText = 'SELECT 1' WHERE QueryKey = 'GatewaysQueryKey'");
        IReadOnlyList<SchemaPartOutcome> second = await PostgresSchema.ApplyAsync(connectionString, CancellationToken.None);

        Assert.Equal([new SchemaPartOutcome("orleans-clustering", 1, null), new SchemaPartOutcome("orleans-grain-state", 1, null)], first);
        Assert.Equal([new SchemaPartOutcome("orleans-clustering", 1, 1), new SchemaPartOutcome("orleans-grain-state", 1, 1)], second);
        Assert.All(second, outcome => Assert.True(outcome.Applied));
        await AssertSchemaInPlaceAsync(connectionString);
        string gateways = await PostgresFixture.ScalarAsync<string>(connectionString, "SELECT QueryText FROM OrleansQuery WHERE QueryKey = 'GatewaysQueryKey'");
        Assert.Contains("ProxyPort > 0", gateways, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Concurrent_applies_on_an_empty_database_all_succeed()
    {
        string connectionString = await fixture.CreateDatabaseAsync("schema_concurrent");
        await using NpgsqlDataSource dataSource = NpgsqlDataSource.Create(connectionString);

        // Several at once: without the advisory lock, concurrent CREATE TABLE IF NOT EXISTS /
        // CREATE OR REPLACE FUNCTION fail with duplicate-key or "tuple concurrently updated" errors.
        IReadOnlyList<SchemaPartOutcome>[] outcomes = await Task.WhenAll(
            Enumerable.Range(0, 6).Select(_ => Task.Run(() => PostgresSchema.ApplyAsync(dataSource, CancellationToken.None))));

        Assert.All(outcomes, parts => Assert.All(parts, part => Assert.True(part.Applied)));
        Assert.Single(outcomes, parts => parts[0].RecordedVersion is null);
        await AssertSchemaInPlaceAsync(connectionString);
    }

    [Fact]
    public async Task A_part_recorded_at_a_newer_version_is_left_alone()
    {
        string connectionString = await fixture.CreateDatabaseAsync("schema_newer");
        await PostgresSchema.ApplyAsync(connectionString, CancellationToken.None);
        await ExecuteAsync(
            connectionString,
            """
            UPDATE presencegrid_schema SET version = 99 WHERE part = 'orleans-clustering';
            UPDATE OrleansQuery SET QueryText = 'SELECT 2' WHERE QueryKey = 'GatewaysQueryKey';
            """);

        IReadOnlyList<SchemaPartOutcome> outcomes = await PostgresSchema.ApplyAsync(connectionString, CancellationToken.None);

        SchemaPartOutcome outcome = Assert.Single(outcomes, o => o.Part == "orleans-clustering");
        Assert.False(outcome.Applied);
        Assert.Equal(99, outcome.RecordedVersion);
        Assert.Equal("SELECT 2", await PostgresFixture.ScalarAsync<string>(connectionString, "SELECT QueryText FROM OrleansQuery WHERE QueryKey = 'GatewaysQueryKey'"));
        Assert.Equal(99, await PostgresFixture.ScalarAsync<int>(connectionString, "SELECT version FROM presencegrid_schema WHERE part = 'orleans-clustering'"));
    }

    private static async Task AssertSchemaInPlaceAsync(string connectionString)
    {
        foreach (string table in (string[])["presencegrid_schema", "presencegrid_grain_state", "orleansquery", "orleansmembershipversiontable", "orleansmembershiptable"])
        {
            Assert.True(
                await PostgresFixture.ScalarAsync<bool>(connectionString, "SELECT to_regclass(@table) IS NOT NULL", ("table", table)),
                $"table {table} is missing");
        }

        foreach (string function in (string[])["presencegrid_membership_insert", "presencegrid_membership_update"])
        {
            Assert.Equal(1L, await PostgresFixture.ScalarAsync<long>(connectionString, "SELECT count(*) FROM pg_proc WHERE proname = @name", ("name", function)));
        }

        string[] keys = await PostgresFixture.ScalarAsync<string[]>(connectionString, "SELECT array_agg(QueryKey ORDER BY QueryKey COLLATE \"C\") FROM OrleansQuery");
        Assert.Equal(ClusteringQueryKeys, keys);
        Assert.Equal(1, await PostgresFixture.ScalarAsync<int>(connectionString, "SELECT version FROM presencegrid_schema WHERE part = 'orleans-clustering'"));
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
