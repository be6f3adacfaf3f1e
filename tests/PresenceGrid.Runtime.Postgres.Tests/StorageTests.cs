using System.Diagnostics;
using Npgsql;
using PresenceGrid.Persistence;
using PresenceGrid.Runtime.GrainDirectory;
using PresenceGrid.Runtime.Membership;
using Xunit.Abstractions;
using PresenceGrid.Testing;

namespace PresenceGrid.Runtime.Postgres.Tests;

[Collection(PostgresCollection.Name)]
public sealed class StorageTests(PostgresFixture fixture, ITestOutputHelper output)
{
    private const string StateName = "profile";

    [Fact]
    public async Task WriteReadClear_FollowTheETagRules()
    {
        await using PostgresCluster cluster = await fixture.StartClusterAsync();
        IGrainStorage storage = cluster.GrainStorage;
        var grain = new GrainId("user", "etag");

        var writer = new TestGrainState<Counter>(new Counter(1));
        await storage.WriteStateAsync(StateName, grain, writer);
        Assert.Equal("1", writer.ETag);
        Assert.True(writer.RecordExists);

        var reader = new TestGrainState<Counter>(new Counter(0));
        await storage.ReadStateAsync(StateName, grain, reader);
        Assert.Equal(new Counter(1), reader.State);
        Assert.Equal("1", reader.ETag);

        // A second "first write" and a stale ETag are conflicts naming both ETags.
        var fresh = new TestGrainState<Counter>(new Counter(9));
        InconsistentStateException noneExpected = await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, grain, fresh));
        Assert.Equal("1", noneExpected.StoredEtag);
        Assert.Null(noneExpected.CurrentEtag);

        writer.State = new Counter(2);
        await storage.WriteStateAsync(StateName, grain, writer);
        Assert.Equal("2", writer.ETag);
        InconsistentStateException stale = await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, grain, reader));
        Assert.IsNotType<GrainStateFencedException>(stale);
        Assert.Equal("2", stale.StoredEtag);
        Assert.Equal("1", stale.CurrentEtag);
        Assert.Contains("the stored ETag is 2 but the writer expected 1", stale.Message, StringComparison.Ordinal);

        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync(StateName, grain, reader));
        await storage.ClearStateAsync(StateName, grain, writer);
        Assert.Null(writer.ETag);
        Assert.False(writer.RecordExists);
        await storage.ReadStateAsync(StateName, grain, reader);
        Assert.False(reader.RecordExists);
        Assert.Null(reader.ETag);

        // After a clear, no ETag from before it matches again (the tombstone keeps counting).
        writer.State = new Counter(3);
        await storage.WriteStateAsync(StateName, grain, writer);
        Assert.Equal("4", writer.ETag);
        var old = new TestGrainState<Counter>(new Counter(-1)) { ETag = "1" };
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, grain, old));
        await storage.ClearStateAsync(StateName, new GrainId("user", "never-written"), new TestGrainState<Counter>(new Counter(0)));
    }

    [Fact]
    public async Task FencedWrite_IsRefusedOnceAnotherActivationTookTheGrainOver()
    {
        await using PostgresCluster cluster = await fixture.StartClusterAsync();
        IMembershipTable table = cluster.MembershipTable;
        SiloAddress first = await table.JoinAsync("first:1", "first", null, TimeSpan.FromSeconds(30), CancellationToken.None);
        SiloAddress second = await table.JoinAsync("second:1", "second", null, TimeSpan.FromSeconds(30), CancellationToken.None);
        var grain = new GrainId("user", "fenced");
        var zombieAddress = new GrainAddress(grain, Guid.NewGuid(), first);
        await cluster.GrainDirectory.RegisterAsync(zombieAddress, null);

        // Not registered: even a first write is fenced.
        var stranger = new TestGrainState<Counter>(new Counter(0), Guid.NewGuid());
        await Assert.ThrowsAsync<GrainStateFencedException>(() => cluster.GrainStorage.WriteStateAsync(StateName, grain, stranger));

        var zombie = new TestGrainState<Counter>(new Counter(1), zombieAddress.ActivationId);
        await cluster.GrainStorage.WriteStateAsync(StateName, grain, zombie);

        await table.SetStatusAsync(first, SiloStatus.Dead, CancellationToken.None);
        var heirAddress = new GrainAddress(grain, Guid.NewGuid(), second);
        Assert.Equal(heirAddress, await cluster.GrainDirectory.RegisterAsync(heirAddress, null));
        var heir = new TestGrainState<Counter>(new Counter(0), heirAddress.ActivationId);
        await cluster.GrainStorage.ReadStateAsync(StateName, grain, heir);
        Assert.Equal(new Counter(1), heir.State);

        zombie.State = new Counter(100);
        GrainStateFencedException fenced = await Assert.ThrowsAsync<GrainStateFencedException>(() => cluster.GrainStorage.WriteStateAsync(StateName, grain, zombie));
        Assert.Contains(zombieAddress.ActivationId.ToString("N"), fenced.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<GrainStateFencedException>(() => cluster.GrainStorage.ClearStateAsync(StateName, grain, zombie));

        heir.State = new Counter(2);
        await cluster.GrainStorage.WriteStateAsync(StateName, grain, heir);
        Assert.Equal("2", heir.ETag);
    }

    [Fact]
    public async Task OneGroupCommit_StoresItsGoodWrites_AndRefusesEachBadOneByName()
    {
        // A long window puts the four writes below into one batch: one UPDATE and one INSERT in one
        // round trip, and the refusals told apart after the commit.
        await using PostgresCluster cluster = await fixture.StartClusterAsync(configure: o => o.GroupCommitWindow = TimeSpan.FromMilliseconds(300));
        PostgresGrainStorage storage = cluster.GrainStorage;
        SiloAddress silo = await cluster.MembershipTable.JoinAsync("mixed:1", "mixed", null, TimeSpan.FromSeconds(30), CancellationToken.None);
        var updated = new TestGrainState<Counter>(new Counter(1));
        var stale = new TestGrainState<Counter>(new Counter(1));
        await storage.WriteStateAsync(StateName, new GrainId("user", "updated"), updated);
        await storage.WriteStateAsync(StateName, new GrainId("user", "stale"), stale);
        stale.ETag = "7";
        var fencedGrain = new GrainId("user", "fenced-in-batch");
        await cluster.GrainDirectory.RegisterAsync(new GrainAddress(fencedGrain, Guid.NewGuid(), silo), null);
        var inserted = new TestGrainState<Counter>(new Counter(3));
        var fenced = new TestGrainState<Counter>(new Counter(4), Guid.NewGuid());
        updated.State = new Counter(2);

        long transactionsBefore = storage.CommittedTransactions;
        Task good = Task.WhenAll(
            storage.WriteStateAsync(StateName, new GrainId("user", "updated"), updated),
            storage.WriteStateAsync(StateName, new GrainId("user", "inserted"), inserted));
        Task conflict = storage.WriteStateAsync(StateName, new GrainId("user", "stale"), stale);
        Task refused = storage.WriteStateAsync(StateName, fencedGrain, fenced);
        await good;
        InconsistentStateException conflictError = await Assert.ThrowsAsync<InconsistentStateException>(() => conflict);
        Assert.IsNotType<GrainStateFencedException>(conflictError);
        Assert.Equal("1", conflictError.StoredEtag);
        await Assert.ThrowsAsync<GrainStateFencedException>(() => refused);
        Assert.Equal(1, storage.CommittedTransactions - transactionsBefore);

        Assert.Equal("2", updated.ETag);
        Assert.Equal("1", inserted.ETag);
        foreach ((string key, Counter expected) in new[] { ("updated", new Counter(2)), ("inserted", new Counter(3)), ("stale", new Counter(1)) })
        {
            var read = new TestGrainState<Counter>(new Counter(-1));
            await storage.ReadStateAsync(StateName, new GrainId("user", key), read);
            Assert.Equal(expected, read.State);
        }

        var unwritten = new TestGrainState<Counter>(new Counter(-1));
        await storage.ReadStateAsync(StateName, fencedGrain, unwritten);
        Assert.False(unwritten.RecordExists);
    }

    [Fact]
    public async Task FirstWriteRace_HasExactlyOneWinner()
    {
        await using PostgresCluster cluster = await fixture.StartClusterAsync();
        var grain = new GrainId("user", "race");
        Task[] writes = [.. Enumerable.Range(0, 20).Select(i => Task.Run(() => cluster.GrainStorage.WriteStateAsync(StateName, grain, new TestGrainState<Counter>(new Counter(i)))))];
        await Task.WhenAll(writes).ContinueWith(_ => { }, TaskScheduler.Default);

        Assert.Equal(1, writes.Count(w => w.IsCompletedSuccessfully));
        Assert.All(writes.Where(w => !w.IsCompletedSuccessfully), w => Assert.IsType<InconsistentStateException>(w.Exception!.InnerException));
        var read = new TestGrainState<Counter>(new Counter(-1));
        await cluster.GrainStorage.ReadStateAsync(StateName, grain, read);
        Assert.Equal("1", read.ETag);
    }

    [Fact]
    public async Task GroupCommit_PutsManyConcurrentWritesIntoFewTransactions()
    {
        await using PostgresCluster cluster = await fixture.StartClusterAsync();
        PostgresGrainStorage storage = cluster.GrainStorage;
        SiloAddress silo = await cluster.MembershipTable.JoinAsync("gc:1", "gc", null, TimeSpan.FromSeconds(30), CancellationToken.None);
        var activations = new Guid[500];
        for (int i = 0; i < activations.Length; i++)
        {
            activations[i] = Guid.NewGuid();
        }

        // Half of them fenced, so the fence's FOR SHARE is part of what is measured.
        await Task.WhenAll(Enumerable.Range(0, 250).Select(i => cluster.GrainDirectory.RegisterAsync(new GrainAddress(new GrainId("user", $"g{i}"), activations[i], silo), null).AsTask()));

        long transactionsBefore = storage.CommittedTransactions;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 500).Select(i => Task.Run(() =>
            storage.WriteStateAsync(StateName, new GrainId("user", $"g{i}"), new TestGrainState<Counter>(new Counter(i), i < 250 ? activations[i] : Guid.Empty)))));
        TimeSpan elapsed = clock.Elapsed;
        long transactions = storage.CommittedTransactions - transactionsBefore;
        output.WriteLine($"500 concurrent first writes: {transactions} transactions, {500.0 / transactions:0.0} rows/transaction, largest {storage.LargestBatch}, {elapsed.TotalMilliseconds:0} ms");
        Assert.InRange(transactions, 1, 50);

        // Updates too, then a short sustained loop: 64 writers chaining ETags.
        var states = Enumerable.Range(0, 64).Select(i => new TestGrainState<Counter>(new Counter(0), activations[i])).ToArray();
        for (int i = 0; i < states.Length; i++)
        {
            await storage.ReadStateAsync(StateName, new GrainId("user", $"g{i}"), states[i]);
        }

        transactionsBefore = storage.CommittedTransactions;
        long rowsBefore = storage.CommittedRows;
        clock.Restart();
        await Task.WhenAll(states.Select((state, i) => Task.Run(async () =>
        {
            var grain = new GrainId("user", $"g{i}");
            while (clock.Elapsed < TimeSpan.FromSeconds(1))
            {
                state.State = state.State with { Value = state.State.Value + 1 };
                await storage.WriteStateAsync(StateName, grain, state);
            }
        })));
        elapsed = clock.Elapsed;
        long rows = storage.CommittedRows - rowsBefore;
        transactions = storage.CommittedTransactions - transactionsBefore;
        output.WriteLine($"64 writers chaining updates for 1 s: {rows} writes in {transactions} transactions, {(double)rows / transactions:0.0} rows/transaction, {rows / elapsed.TotalSeconds:0} writes/s");
        Assert.True(rows > transactions);
    }

    [Fact]
    public async Task Connections_UseGenericPlans_AndSkipTheResetOnClose()
    {
        await using PostgresCluster cluster = await fixture.StartClusterAsync();
        await using NpgsqlConnection connection = await cluster.DataSource.OpenConnectionAsync();
        await using var command = new NpgsqlCommand("SHOW plan_cache_mode", connection);

        Assert.Equal("force_generic_plan", await command.ExecuteScalarAsync());
        Assert.True(new NpgsqlConnectionStringBuilder(connection.ConnectionString).NoResetOnClose);
    }

    [Fact]
    public async Task ReadAll_ReturnsTheLiveRecordsOfOneTypeAndState()
    {
        await using PostgresCluster cluster = await fixture.StartClusterAsync();
        IGrainStorage storage = cluster.GrainStorage;
        await storage.WriteStateAsync(StateName, new GrainId("a_b", "1"), new TestGrainState<Counter>(new Counter(1)));
        await storage.WriteStateAsync(StateName, new GrainId("a_b", "2"), new TestGrainState<Counter>(new Counter(2)));
        await storage.WriteStateAsync("other", new GrainId("a_b", "3"), new TestGrainState<Counter>(new Counter(3)));
        await storage.WriteStateAsync(StateName, new GrainId("axb", "4"), new TestGrainState<Counter>(new Counter(4)));

        // Types whose ids sort right next to "a_b/..." ('.' before '/', '0' after it) are not in the range.
        await storage.WriteStateAsync(StateName, new GrainId("a_b.", "6"), new TestGrainState<Counter>(new Counter(6)));
        await storage.WriteStateAsync(StateName, new GrainId("a_b0", "7"), new TestGrainState<Counter>(new Counter(7)));
        await storage.WriteStateAsync(StateName, new GrainId("a_", "8"), new TestGrainState<Counter>(new Counter(8)));
        var cleared = new TestGrainState<Counter>(new Counter(5));
        await storage.WriteStateAsync(StateName, new GrainId("a_b", "5"), cleared);
        await storage.ClearStateAsync(StateName, new GrainId("a_b", "5"), cleared);

        IReadOnlyList<KeyValuePair<GrainId, Counter>> all = await cluster.GrainStorage.ReadAllAsync<Counter>(StateName, "a_b", CancellationToken.None);

        Assert.Equal(
            [new(new GrainId("a_b", "1"), new Counter(1)), new(new GrainId("a_b", "2"), new Counter(2))],
            all);
    }

    [Fact]
    public async Task DatabaseRestartMidWrites_LaterWritesSucceed_AndNothingAcknowledgedIsLost()
    {
        await using PostgresCluster cluster = await fixture.StartClusterAsync();
        PostgresGrainStorage storage = cluster.GrainStorage;
        const int Writers = 16;
        var acknowledged = new int[Writers];
        var afterRestart = new int[Writers];
        var failures = new List<Exception>();
        var restarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int total = 0;

        async Task WriteLoopAsync(int writer)
        {
            var grain = new GrainId("user", $"w{writer}");
            var state = new TestGrainState<Counter>(new Counter(0));
            while (Volatile.Read(ref afterRestart[writer]) < 5)
            {
                state.State = new Counter(state.State.Value + 1);
                try
                {
                    await storage.WriteStateAsync(StateName, grain, state);
                    acknowledged[writer] = state.State.Value;
                    Interlocked.Increment(ref total);
                    if (restarted.Task.IsCompleted)
                    {
                        afterRestart[writer]++;
                    }
                }
                catch (Exception ex) when (ex is not InconsistentStateException)
                {
                    lock (failures)
                    {
                        failures.Add(ex);
                    }

                    // Outcome unknown: re-read and carry on from what is stored.
                    await storage.ReadStateAsync(StateName, grain, state);
                }
            }
        }

        Task[] loops = [.. Enumerable.Range(0, Writers).Select(w => Task.Run(() => WriteLoopAsync(w)))];
        await Eventually.TrueAsync(() => Volatile.Read(ref total) >= 200, "200 writes before the restart");
        await fixture.Server.RestartAsync();
        restarted.SetResult();
        await Task.WhenAll(loops).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Empty(failures);
        Assert.True(cluster.TransientRetries > 0, "no write met the restart");
        for (int w = 0; w < Writers; w++)
        {
            var read = new TestGrainState<Counter>(new Counter(-1));
            await storage.ReadStateAsync(StateName, new GrainId("user", $"w{w}"), read);
            Assert.Equal(acknowledged[w], read.State.Value);
        }

        output.WriteLine($"{total} writes across the restart in {storage.CommittedTransactions} transactions; {cluster.TransientRetries} transient retries");
    }
}
