using PresenceGrid.Runtime.GrainDirectory;
using PresenceGrid.Runtime.Membership;

namespace PresenceGrid.Runtime.Postgres.Tests;

[Collection(PostgresCollection.Name)]
public sealed class DirectoryTests(PostgresFixture fixture)
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Register_FreshEntryWins_AndLookupFindsIt()
    {
        await using PostgresCluster cluster = await fixture.StartClusterAsync();
        SiloAddress silo = await cluster.MembershipTable.JoinAsync("a:1", "a", null, Lease, CancellationToken.None);
        var address = new GrainAddress(new GrainId("user", "alice"), Guid.NewGuid(), silo);

        Assert.Equal(address, await cluster.GrainDirectory.RegisterAsync(address, null));
        Assert.Equal(address, await cluster.GrainDirectory.RegisterAsync(address, null));
        Assert.Equal(address, await cluster.GrainDirectory.LookupAsync(address.GrainId));
        Assert.Null(await cluster.GrainDirectory.LookupAsync(new GrainId("user", "bob")));
    }

    [Fact]
    public async Task Register_TwentyConcurrentActivations_ExactlyOneWinsAndAllSeeIt()
    {
        await using PostgresCluster cluster = await fixture.StartClusterAsync();
        SiloAddress a = await cluster.MembershipTable.JoinAsync("a:1", "a", null, Lease, CancellationToken.None);
        SiloAddress b = await cluster.MembershipTable.JoinAsync("b:1", "b", null, Lease, CancellationToken.None);
        var grain = new GrainId("room", "lobby");
        GrainAddress[] candidates = [.. Enumerable.Range(0, 20).Select(i => new GrainAddress(grain, Guid.NewGuid(), i % 2 == 0 ? a : b))];

        GrainAddress[] results = await Task.WhenAll(candidates.Select(c => Task.Run(async () => await cluster.GrainDirectory.RegisterAsync(c, null))));

        GrainAddress winner = Assert.Single(results.Distinct());
        Assert.Contains(winner, candidates);
        Assert.Equal(winner, await cluster.GrainDirectory.LookupAsync(grain));
        Assert.Equal([winner], await cluster.GrainDirectory.ReadAllAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Register_TakesOverOnlyAnExpectedOrDeadOwnedEntry_NeverAMerelyExpiredOne()
    {
        await using PostgresCluster cluster = await fixture.StartClusterAsync();
        IMembershipTable table = cluster.MembershipTable;
        SiloAddress old = await table.JoinAsync("old:1", "old", null, Lease, CancellationToken.None);
        SiloAddress next = await table.JoinAsync("next:1", "next", null, Lease, CancellationToken.None);
        var g1 = new GrainId("user", "1");
        var g2 = new GrainId("user", "2");
        GrainAddress g1Old = await cluster.GrainDirectory.RegisterAsync(new GrainAddress(g1, Guid.NewGuid(), old), null);
        GrainAddress g2Old = await cluster.GrainDirectory.RegisterAsync(new GrainAddress(g2, Guid.NewGuid(), old), null);

        // Lease lapsed, not declared dead: membership has not ruled, so no takeover.
        await Db.ScalarAsync<int>(cluster, "UPDATE silo SET lease_until = now() - interval '1 minute' WHERE silo_id = 'old:1' RETURNING 1");
        var g1New = new GrainAddress(g1, Guid.NewGuid(), next);
        Assert.Equal(g1Old, await cluster.GrainDirectory.RegisterAsync(g1New, null));

        // A wrong "previous" does not take over; the right one does.
        var g2New = new GrainAddress(g2, Guid.NewGuid(), next);
        Assert.Equal(g2Old, await cluster.GrainDirectory.RegisterAsync(g2New, g2Old with { ActivationId = Guid.NewGuid() }));
        Assert.Equal(g2New, await cluster.GrainDirectory.RegisterAsync(g2New, g2Old));

        // Dead owner: taken over.
        Assert.True(await table.SetStatusAsync(old, SiloStatus.Dead, CancellationToken.None));
        Assert.Equal(g1New, await cluster.GrainDirectory.RegisterAsync(g1New, null));
        Assert.Equal(g1New, await cluster.GrainDirectory.LookupAsync(g1));
    }

    [Fact]
    public async Task Unregister_RemovesOnlyTheSameActivation()
    {
        await using PostgresCluster cluster = await fixture.StartClusterAsync();
        SiloAddress silo = await cluster.MembershipTable.JoinAsync("a:1", "a", null, Lease, CancellationToken.None);
        GrainAddress address = await cluster.GrainDirectory.RegisterAsync(new GrainAddress(new GrainId("user", "u"), Guid.NewGuid(), silo), null);

        await cluster.GrainDirectory.UnregisterAsync(address with { ActivationId = Guid.NewGuid() });
        Assert.Equal(address, await cluster.GrainDirectory.LookupAsync(address.GrainId));

        await cluster.GrainDirectory.UnregisterAsync(address);
        Assert.Null(await cluster.GrainDirectory.LookupAsync(address.GrainId));
    }

    [Fact]
    public async Task RemoveDeadSilos_DeletesOnlyDeadSilosEntries()
    {
        await using PostgresCluster cluster = await fixture.StartClusterAsync();
        SiloAddress dead = await cluster.MembershipTable.JoinAsync("dead:1", "d", null, Lease, CancellationToken.None);
        SiloAddress live = await cluster.MembershipTable.JoinAsync("live:1", "l", null, Lease, CancellationToken.None);
        for (int i = 0; i < 3; i++)
        {
            await cluster.GrainDirectory.RegisterAsync(new GrainAddress(new GrainId("user", $"d{i}"), Guid.NewGuid(), dead), null);
        }

        GrainAddress kept = await cluster.GrainDirectory.RegisterAsync(new GrainAddress(new GrainId("user", "l"), Guid.NewGuid(), live), null);
        await cluster.MembershipTable.SetStatusAsync(dead, SiloStatus.Dead, CancellationToken.None);

        Assert.Equal(3, await cluster.GrainDirectory.RemoveDeadSilosAsync(CancellationToken.None));
        Assert.Equal([kept], await cluster.GrainDirectory.ReadAllAsync(CancellationToken.None));
        Assert.Equal(0, await cluster.GrainDirectory.RemoveDeadSilosAsync(CancellationToken.None));
    }
}
