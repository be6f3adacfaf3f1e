namespace PresenceGrid.Runtime.Postgres.Tests;

[Collection(PostgresCollection.Name)]
public sealed class SchemaTests(PostgresFixture fixture)
{
    [Fact]
    public async Task Initialize_ConcurrentSilosAndRepeats_CreateTheSchemaOnce()
    {
        string id = fixture.Server.NewClusterId("schema");
        await using PostgresCluster a = fixture.NewCluster(id);
        await using PostgresCluster b = fixture.NewCluster(id);
        await Task.WhenAll(a.InitializeAsync(CancellationToken.None), b.InitializeAsync(CancellationToken.None));
        await a.InitializeAsync(CancellationToken.None);
        await using (PostgresCluster c = await fixture.StartClusterAsync(id))
        {
            Assert.Equal(a.SchemaName, c.SchemaName);
        }

        Assert.Equal((long)PostgresSchema.Migrations.Count, await Db.ScalarAsync<long>(a, "SELECT count(*) FROM schema_version"));
        Assert.Equal(1L, await Db.ScalarAsync<long>(a, "SELECT count(*) FROM cluster_version"));
        Assert.Equal(0L, await Db.ScalarAsync<long>(a, "SELECT version FROM cluster_version"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Upper")]
    [InlineData("has space")]
    [InlineData("x1234567890123456789012345678901234567890")]
    public void Options_RejectBadClusterIds(string id)
    {
        var options = new PostgresClusterOptions { ConnectionString = "Host=x", ClusterId = id };
        Assert.Throws<ArgumentException>(options.Validate);
    }

    [Fact]
    public void Options_DeriveTheSchemaName() =>
        Assert.Equal("pgrid_eu_west_1", new PostgresClusterOptions { ClusterId = "eu-west_1" }.SchemaName);

    [Theory]
    [InlineData("Host=h;Max Auto Prepare=0", true)]
    [InlineData("Host=h;maxautoprepare=5", true)]
    [InlineData("Host=h;Auto Prepare Min Usages=3", false)]
    [InlineData("Host=h;Username=u", false)]
    public void AutoPrepare_IsLeftToAConnectionStringThatSetsIt(string connectionString, bool sets) =>
        Assert.Equal(sets, PostgresCluster.SetsKeyword(connectionString, "maxautoprepare"));
}
