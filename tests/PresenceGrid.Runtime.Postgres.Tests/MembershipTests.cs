using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;
using PresenceGrid.Runtime.GrainDirectory;
using PresenceGrid.Runtime.Membership;
using PresenceGrid.Testing;

namespace PresenceGrid.Runtime.Postgres.Tests;

[Collection(PostgresCollection.Name)]
public sealed class MembershipTests(PostgresFixture fixture)
{
    private static readonly TimeSpan LongLease = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Join_GivesIncreasingEpochs_AndBumpsTheVersion()
    {
        await using PostgresCluster cluster = await fixture.StartClusterAsync();
        IMembershipTable table = cluster.MembershipTable;
        long before = await table.ReadVersionAsync(CancellationToken.None);

        SiloAddress first = await table.JoinAsync("10.0.0.1:11111", "a", "http://a", LongLease, CancellationToken.None);
        SiloAddress second = await table.JoinAsync("10.0.0.1:11111", "a", null, LongLease, CancellationToken.None);
        SiloAddress third = await table.JoinAsync("10.0.0.2:11111", "b", null, LongLease, CancellationToken.None);

        Assert.True(first.Generation < second.Generation && second.Generation < third.Generation);
        MembershipView view = await table.ReadAsync(CancellationToken.None);
        Assert.Equal(before + 3, view.Version);
        Assert.Equal(3, view.Silos.Count);
        Assert.All(view.Silos, s => Assert.Equal(SiloStatus.Joining, s.Status));
        Assert.Equal("http://a", view.Silos.Single(s => s.Address == first).HttpEndpoint);

        Assert.True(await table.SetStatusAsync(first, SiloStatus.Active, CancellationToken.None));
        Assert.Equal(before + 4, await table.ReadVersionAsync(CancellationToken.None));
        Assert.Equal(SiloStatus.Active, (await table.ReadAsync(CancellationToken.None)).StatusOf(first));
    }

    [Fact]
    public async Task RenewLease_ReturnsTheLeaseLeft_AndNullOnceDead_StatusOnlyMovesForward()
    {
        await using PostgresCluster cluster = await fixture.StartClusterAsync();
        IMembershipTable table = cluster.MembershipTable;
        SiloAddress silo = await table.JoinAsync("s:1", "s", null, TimeSpan.FromSeconds(5), CancellationToken.None);

        TimeSpan? left = await table.RenewLeaseAsync(silo, TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.NotNull(left);
        Assert.InRange(left.Value, TimeSpan.FromSeconds(9), TimeSpan.FromSeconds(10));

        Assert.True(await table.SetStatusAsync(silo, SiloStatus.Leaving, CancellationToken.None));
        long version = await table.ReadVersionAsync(CancellationToken.None);
        Assert.True(await table.SetStatusAsync(silo, SiloStatus.Active, CancellationToken.None));
        Assert.Equal(version, await table.ReadVersionAsync(CancellationToken.None));
        Assert.Equal(SiloStatus.Leaving, (await table.ReadAsync(CancellationToken.None)).StatusOf(silo));

        Assert.True(await table.SetStatusAsync(silo, SiloStatus.Dead, CancellationToken.None));
        Assert.Null(await table.RenewLeaseAsync(silo, TimeSpan.FromSeconds(10), CancellationToken.None));
        Assert.False(await table.SetStatusAsync(silo, SiloStatus.Active, CancellationToken.None));
        Assert.False(await table.SetStatusAsync(new SiloAddress("nowhere:1", 999), SiloStatus.Active, CancellationToken.None));
        Assert.NotNull(await Db.ScalarAsync<DateTime?>(cluster, "SELECT died_at FROM silo"));
    }

    [Fact]
    public async Task DeclareDead_OnlyAfterLeaseAndGrace()
    {
        await using PostgresCluster cluster = await fixture.StartClusterAsync();
        IMembershipTable table = cluster.MembershipTable;
        TimeSpan lease = TimeSpan.FromSeconds(1);
        TimeSpan grace = TimeSpan.FromMilliseconds(200);
        var clock = Stopwatch.StartNew();
        SiloAddress lapsing = await table.JoinAsync("lapsing:1", "lapsing", null, lease, CancellationToken.None);
        SiloAddress healthy = await table.JoinAsync("healthy:1", "healthy", null, LongLease, CancellationToken.None);

        Assert.Empty(await table.DeclareDeadAsync(grace, CancellationToken.None));
        long version = await table.ReadVersionAsync(CancellationToken.None);

        IReadOnlyList<SiloAddress> declared = [];
        await Eventually.TrueAsync(
            async () => (declared = await table.DeclareDeadAsync(grace, CancellationToken.None)).Count > 0,
            "the lapsed silo to be declared dead");

        Assert.True(clock.Elapsed >= lease + grace - TimeSpan.FromMilliseconds(50), $"declared dead after {clock.Elapsed}");
        Assert.Equal([lapsing], declared);
        Assert.Equal(version + 1, await table.ReadVersionAsync(CancellationToken.None));
        Assert.Null(await table.RenewLeaseAsync(lapsing, lease, CancellationToken.None));
        Assert.NotNull(await table.RenewLeaseAsync(healthy, LongLease, CancellationToken.None));
        Assert.Empty(await table.DeclareDeadAsync(grace, CancellationToken.None));
        Assert.Equal(version + 1, await table.ReadVersionAsync(CancellationToken.None));
    }

    [Fact]
    public async Task DeclareDead_RightAfterADatabaseRestart_WaitsTwoLeases()
    {
        await using PostgresCluster cluster = await fixture.StartClusterAsync();
        IMembershipTable table = cluster.MembershipTable;
        TimeSpan grace = TimeSpan.FromMilliseconds(200);
        SiloAddress silo = await table.JoinAsync("restarted:1", "r", null, TimeSpan.FromSeconds(1), CancellationToken.None);

        await fixture.Server.RestartAsync();

        // Let the lease lapse (as the database sees it), then try at once: the postmaster guard refuses.
        await Eventually.TrueAsync(
            async () => await Db.ScalarAsync<bool>(cluster, "SELECT lease_until < now() - interval '200 milliseconds' FROM silo"),
            "the lease to lapse");
        Assert.Empty(await table.DeclareDeadAsync(grace, CancellationToken.None));
        Assert.True(
            await Db.ScalarAsync<bool>(cluster, "SELECT now() - pg_postmaster_start_time() < interval '2 seconds'"),
            "the database had been up two leases already; the guard was not what refused");

        IReadOnlyList<SiloAddress> declared = [];
        await Eventually.TrueAsync(
            async () => (declared = await table.DeclareDeadAsync(grace, CancellationToken.None)).Count > 0,
            "the silo to be declared dead once the database was up two leases");
        Assert.Equal([silo], declared);
        Assert.True(await Db.ScalarAsync<bool>(cluster, "SELECT now() - pg_postmaster_start_time() > interval '2 seconds'"));
    }

    [Fact]
    public async Task Notifications_RaiseVersionHints_AndTheListenerReconnectsAfterItsBackendIsKilled()
    {
        // The poll is made slow so that only notifications can satisfy the deadlines.
        await using PostgresCluster cluster = await fixture.StartClusterAsync(configure: o => o.VersionPollInterval = TimeSpan.FromMinutes(10));
        PostgresMembershipTable table = cluster.MembershipTable;
        var hints = new ConcurrentQueue<long>();
        table.VersionHint += hints.Enqueue;
        await Eventually.TrueAsync(() => table.ListenerConnects == 1, "the listener to connect");

        await table.JoinAsync("n:1", "n", null, LongLease, CancellationToken.None);
        long version = await table.ReadVersionAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => hints.Contains(version), $"a hint for version {version}", TimeSpan.FromSeconds(3));
        long notified = table.NotificationsReceived;
        Assert.True(notified >= 1);

        int pid = table.ListenerProcessId;
        Assert.True(await Db.ScalarAsync<bool>(cluster, $"SELECT pg_terminate_backend({pid})"));
        await Eventually.TrueAsync(() => table.ListenerConnects == 2, "the listener to reconnect", TimeSpan.FromSeconds(5));
        Assert.NotEqual(pid, table.ListenerProcessId);

        await table.JoinAsync("n:2", "n", null, LongLease, CancellationToken.None);
        long next = await table.ReadVersionAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => hints.Contains(next), $"a hint for version {next} after the reconnect", TimeSpan.FromSeconds(3));
        Assert.True(table.NotificationsReceived > notified);
    }

    [Fact]
    public async Task VersionPoll_RaisesAHint_WhenNoNotificationCame()
    {
        await using PostgresCluster cluster = await fixture.StartClusterAsync(configure: o => o.VersionPollInterval = TimeSpan.FromMilliseconds(100));
        var hints = new ConcurrentQueue<long>();
        cluster.MembershipTable.VersionHint += hints.Enqueue;
        await using (NpgsqlConnection connection = await cluster.DataSource.OpenConnectionAsync())
        {
            await using var command = new NpgsqlCommand(
                "ALTER TABLE cluster_version DISABLE TRIGGER cluster_version_notify; UPDATE cluster_version SET version = 4242",
                connection);
            await command.ExecuteNonQueryAsync();
        }

        await Eventually.TrueAsync(() => hints.Contains(4242), "the poll to notice version 4242", TimeSpan.FromSeconds(3));
    }
}
