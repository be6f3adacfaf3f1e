using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Orleans.TestingHost;
using PresenceGrid.Postgres.Persistence;

namespace PresenceGrid.Postgres.Tests;

/// <summary>
/// PostgresGrainStorage as Orleans' <see cref="IGrainStorage"/>: state survives its silo, writes of
/// many grains share transactions, a stale ETag is refused alone, and a clear reads back as default.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresGrainStorageTests(PostgresFixture fixture)
{
    private const string StateName = "counter";

    [Fact]
    public async Task State_written_on_a_killed_silo_reads_back_on_the_survivor()
    {
        await using TestCluster cluster = await DeployAsync("storage_kill", silos: 2);
        IStatefulGrain grain = cluster.Client.GetGrain<IStatefulGrain>(7);
        await grain.Set(42);
        SiloAddress firstHost = await grain.GetSiloAddress();

        await cluster.KillSiloAsync(Assert.Single(cluster.Silos, s => s.SiloAddress.Equals(firstHost)));
        SiloAddress secondHost = await PostgresClusteringTests.AnswerFromAnotherSiloAsync(grain, firstHost, Stopwatch.StartNew());

        Assert.NotEqual(firstHost, secondHost);
        Assert.Equal(42, await grain.Get());
    }

    [Fact]
    public async Task Concurrent_writes_of_many_grains_commit_in_fewer_transactions_than_writes()
    {
        (TestCluster cluster, string connectionString) = await DeployWithDatabaseAsync("storage_group", silos: 1);
        await using TestCluster _ = cluster;
        PostgresGrainStorage storage = StorageOf(cluster.Silos[0]);
        long transactionsBefore = storage.Transactions;
        long writesBefore = storage.CommittedWrites;
        const int Grains = 64;

        await Task.WhenAll(Enumerable.Range(0, Grains).Select(i => cluster.Client.GetGrain<IStatefulGrain>(1000 + i).Set(i)));

        // Every write was acknowledged (WhenAll returned) and is stored.
        Assert.Equal(Grains, storage.CommittedWrites - writesBefore);
        long transactions = storage.Transactions - transactionsBefore;
        Assert.True(transactions < Grains, $"{Grains} writes took {transactions} transactions.");
        Assert.Equal(
            Grains,
            await PostgresFixture.ScalarAsync<long>(connectionString, "SELECT count(*) FROM presencegrid_grain_state WHERE payload IS NOT NULL"));
    }

    [Fact]
    public async Task A_write_with_a_stale_etag_fails_and_changes_nothing()
    {
        await using TestCluster cluster = await DeployAsync("storage_stale", silos: 1);
        IGrainStorage storage = StorageOf(cluster.Silos[0]);
        GrainId grainId = TestGrainId("stale");
        GrainState<CounterState> first = await WriteNewAsync(storage, grainId, 1);
        GrainState<CounterState> second = await ReadAsync(storage, grainId);
        second.State!.Value = 2;
        await storage.WriteStateAsync(StateName, grainId, second);

        string staleEtag = first.ETag!;
        first.State!.Value = 3;
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, grainId, first));

        GrainState<CounterState> reread = await ReadAsync(storage, grainId);
        Assert.Equal(2, reread.State!.Value);
        Assert.Equal(second.ETag, reread.ETag);
        Assert.NotEqual(staleEtag, reread.ETag);
    }

    [Fact]
    public async Task Queued_writes_of_one_grain_state_commit_in_the_order_they_came_across_committers()
    {
        await using TestCluster cluster = await DeployAsync("storage_order", silos: 1);
        IGrainStorage storage = StorageOf(cluster.Silos[0]);
        GrainId grainId = TestGrainId("order");
        long etag = long.Parse((await WriteNewAsync(storage, grainId, 0)).ETag!, CultureInfo.InvariantCulture);

        // Each write names the ETag the one before it leaves, so it succeeds only if committed after
        // it; other grains' writes keep every committer busy meanwhile.
        Task[] others = Enumerable.Range(0, 64).Select(i => (Task)WriteNewAsync(storage, TestGrainId($"other{i}"), i)).ToArray();
        Task[] chain = Enumerable.Range(1, 20)
            .Select(i => storage.WriteStateAsync(StateName, grainId, new GrainState<CounterState>(new CounterState { Value = i }, (etag + i - 1).ToString(CultureInfo.InvariantCulture))))
            .ToArray();
        await Task.WhenAll(chain.Concat(others));

        GrainState<CounterState> stored = await ReadAsync(storage, grainId);
        Assert.Equal(20, stored.State!.Value);
        Assert.Equal((etag + 20).ToString(CultureInfo.InvariantCulture), stored.ETag);
    }

    [Fact]
    public async Task Clear_then_read_gives_the_default_state()
    {
        await using TestCluster cluster = await DeployAsync("storage_clear", silos: 1);
        IStatefulGrain grain = cluster.Client.GetGrain<IStatefulGrain>(5);
        await grain.Set(5);
        IGrainStorage storage = StorageOf(cluster.Silos[0]);
        GrainState<CounterState> stored = await ReadAsync(storage, grain.GetGrainId());
        Assert.Equal(5, stored.State!.Value);

        await storage.ClearStateAsync(StateName, grain.GetGrainId(), stored);
        GrainState<CounterState> reread = await ReadAsync(storage, grain.GetGrainId());

        Assert.Equal(0, reread.State!.Value);
        Assert.False(reread.RecordExists);
        Assert.Null(reread.ETag);
    }
    private static GrainId TestGrainId(string key) => GrainId.Create("test", key);

    private static async Task<GrainState<CounterState>> WriteNewAsync(IGrainStorage storage, GrainId grainId, int value)
    {
        var state = new GrainState<CounterState>(new CounterState { Value = value });
        await storage.WriteStateAsync(StateName, grainId, state);
        return state;
    }

    /// <summary>Reads into a state object that starts non-default, so a read that leaves it alone shows.</summary>
    private static async Task<GrainState<CounterState>> ReadAsync(IGrainStorage storage, GrainId grainId)
    {
        var state = new GrainState<CounterState>(new CounterState { Value = 99 });
        await storage.ReadStateAsync(StateName, grainId, state);
        return state;
    }

    private static PostgresGrainStorage StorageOf(SiloHandle silo) =>
        (PostgresGrainStorage)((InProcessSiloHandle)silo).SiloHost.Services.GetRequiredKeyedService<IGrainStorage>(ClusterConfigurators.StorageName);

    private async Task<TestCluster> DeployAsync(string database, short silos) => (await DeployWithDatabaseAsync(database, silos)).Cluster;

    private async Task<(TestCluster Cluster, string ConnectionString)> DeployWithDatabaseAsync(string database, short silos)
    {
        string connectionString = await fixture.CreateDatabaseAsync(database);
        var builder = new TestClusterBuilder(silos);
        builder.Options.UseTestClusterMembership = false;
        builder.Options.ConfigureFileLogging = false;
        builder.Properties[ClusterConfigurators.ConnectionStringKey] = connectionString;
        builder.AddSiloBuilderConfigurator<ClusterConfigurators.StorageSiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClusterConfigurators.ClientConfigurator>();
        TestCluster cluster = builder.Build();
        await cluster.DeployAsync();
        return (cluster, connectionString);
    }
}
