using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime.MembershipService;
using PresenceGrid.Postgres.Hosting;
using PresenceGrid.Postgres.Schema;

namespace PresenceGrid.Postgres.Tests;

/// <summary>
/// Orleans' own ADO.NET membership table (the class the silos use) against our schema: the
/// optimistic-concurrency contract the membership protocol relies on, call by call.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresMembershipTableTests(PostgresFixture fixture)
{
    private static readonly DateTime StartTime = new(2026, 12, 7, 12, 0, 0, DateTimeKind.Utc);

    [Fact]
    public async Task Inserts_and_updates_take_effect_only_with_the_version_last_read()
    {
        (AdoNetClusteringTable table, _) = await NewTableAsync("membership_versions", "c1");
        MembershipTableData empty = await table.ReadAllAsync(default);
        Assert.Empty(empty.Members);

        MembershipEntry first = NewEntry(11111, SiloStatus.Joining);
        Assert.True(await table.InsertRowAsync(first, empty.Version.Next(), default));

        // A writer that read the old version is refused, and nothing of its write lands.
        MembershipEntry late = NewEntry(22222, SiloStatus.Joining);
        Assert.False(await table.InsertRowAsync(late, empty.Version.Next(), default));
        MembershipTableData afterInsert = await table.ReadAllAsync(default);
        Assert.Equal(first.SiloAddress, Assert.Single(afterInsert.Members).Item1.SiloAddress);
        Assert.Equal(empty.Version.Version + 1, afterInsert.Version.Version);

        // The same silo twice: refused, and the version does not move.
        Assert.False(await table.InsertRowAsync(NewEntry(11111, SiloStatus.Joining), afterInsert.Version.Next(), default));
        Assert.Equal(afterInsert.Version.Version, (await table.ReadAllAsync(default)).Version.Version);

        // An update names the etag its row was read with (the table version then).
        first.Status = SiloStatus.Active;
        string etag = afterInsert.Members[0].Item2;
        Assert.False(await table.UpdateRowAsync(first, empty.Version.VersionEtag, empty.Version.Next(), default));
        Assert.Equal(SiloStatus.Joining, (await ReadOneAsync(table, first.SiloAddress)).Status);
        Assert.True(await table.UpdateRowAsync(first, etag, afterInsert.Version.Next(), default));
        MembershipTableData afterUpdate = await table.ReadRowAsync(first.SiloAddress, default);
        Assert.Equal(SiloStatus.Active, Assert.Single(afterUpdate.Members).Item1.Status);
        Assert.Equal(afterInsert.Version.Version + 1, afterUpdate.Version.Version);
    }

    [Fact]
    public async Task Suspicions_liveness_and_cleanup_round_trip()
    {
        (AdoNetClusteringTable table, string connectionString) = await NewTableAsync("membership_rows", "c2");
        MembershipEntry active = NewEntry(11111, SiloStatus.Active);
        MembershipEntry dead = NewEntry(22222, SiloStatus.Dead);
        Assert.True(await table.InsertRowAsync(active, (await table.ReadAllAsync(default)).Version.Next(), default));
        Assert.True(await table.InsertRowAsync(dead, (await table.ReadAllAsync(default)).Version.Next(), default));

        active.SuspectTimes = [Tuple.Create(dead.SiloAddress, StartTime.AddSeconds(5))];
        MembershipTableData beforeVote = await table.ReadAllAsync(default);
        Assert.True(await table.UpdateRowAsync(active, beforeVote.Version.VersionEtag, beforeVote.Version.Next(), default));
        active.IAmAliveTime = StartTime.AddMinutes(10);
        await table.UpdateIAmAliveAsync(active, default);

        MembershipEntry read = await ReadOneAsync(table, active.SiloAddress);
        Assert.Equal(dead.SiloAddress, Assert.Single(read.SuspectTimes!).Item1);
        Assert.Equal(StartTime.AddMinutes(10), read.IAmAliveTime);

        // Both rows are older than the date; Orleans drops the Dead one (through CleanupDefunctSiloEntryKey), the Active one stays.
        await table.CleanupDefunctSiloEntriesAsync(StartTime.AddHours(1), default);
        MembershipTableData all = await table.ReadAllAsync(default);
        Assert.Equal(active.SiloAddress, Assert.Single(all.Members).Item1.SiloAddress);

        await table.DeleteMembershipTableEntriesAsync("c2", default);
        Assert.Equal(0L, await PostgresFixture.ScalarAsync<long>(connectionString, "SELECT count(*) FROM OrleansMembershipVersionTable WHERE DeploymentId = 'c2'"));
    }

    private static async Task<MembershipEntry> ReadOneAsync(AdoNetClusteringTable table, SiloAddress silo) =>
        Assert.Single((await table.ReadRowAsync(silo, default)).Members).Item1;

    private async Task<(AdoNetClusteringTable Table, string ConnectionString)> NewTableAsync(string database, string clusterId)
    {
        string connectionString = await fixture.CreateDatabaseAsync(database);
        await PostgresSchema.ApplyAsync(connectionString, CancellationToken.None);
        var table = new AdoNetClusteringTable(
            new ServiceCollection().BuildServiceProvider(),
            new OptionsWrapper<ClusterOptions>(new ClusterOptions { ClusterId = clusterId }),
            new OptionsWrapper<AdoNetClusteringSiloOptions>(new AdoNetClusteringSiloOptions { Invariant = PostgresClusteringExtensions.Invariant, ConnectionString = connectionString }),
            NullLogger<AdoNetClusteringTable>.Instance);
        await table.InitializeMembershipTableAsync(tryInitTableVersion: true, default);
        return (table, connectionString);
    }

    private static MembershipEntry NewEntry(int port, SiloStatus status) => new()
    {
        SiloAddress = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, port), 1),
        SiloName = $"silo-{port}",
        HostName = "localhost",
        Status = status,
        ProxyPort = port + 1,
        StartTime = StartTime,
        IAmAliveTime = StartTime,
    };
}
