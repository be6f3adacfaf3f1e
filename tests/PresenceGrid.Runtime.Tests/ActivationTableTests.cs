using PresenceGrid.Runtime.Catalog;
using PresenceGrid.Testing;

namespace PresenceGrid.Runtime.Tests;

public sealed class ActivationTableTests : IAsyncLifetime
{
    private InProcessSilo _silo = null!;

    public async Task InitializeAsync() => _silo = await InProcessSilo.StartAsync();

    public async Task DisposeAsync() => await _silo.DisposeAsync();

    private ActivationData NewActivation(string key) => new(new SiloGrainClass(_silo.Silo.Runtime, descriptor: null!), new GrainId("table-test", key), pool: null);

    [Fact]
    public async Task ActivationIds_AreStable_AndDistinctWithinASiloAndAcrossSilos()
    {
        ActivationData first = NewActivation("id-a");
        ActivationData second = NewActivation("id-a");
        Assert.Equal(first.ActivationId, first.ActivationId);
        Assert.NotEqual(first.ActivationId, second.ActivationId);
        Assert.Equal(1000, Enumerable.Range(0, 1000).Select(i => NewActivation($"id-{i}").ActivationId).Distinct().Count());

        // Another silo counts from the same numbers, but its ids have a random half of their own.
        await using InProcessSilo other = await InProcessSilo.StartAsync();
        Assert.NotEqual(_silo.Silo.Runtime.ActivationIdOf(1), other.Silo.Runtime.ActivationIdOf(1));
    }

    [Fact]
    public void OneActivationPerGrain_RemovalOnlyOfTheOneInTheTable_AndASnapshotOfEveryone()
    {
        var table = new ActivationTable();
        ActivationData first = NewActivation("a");
        ActivationData rival = NewActivation("a");

        Assert.Same(first, table.GetOrAdd(first));
        Assert.Same(first, table.GetOrAdd(rival));
        Assert.False(table.TryRemove(rival));
        Assert.True(table.TryGetValue(new GrainId("table-test", "a"), out ActivationData? found));
        Assert.Same(first, found);

        ActivationData[] many = [.. Enumerable.Range(0, 1000).Select(i => NewActivation($"k{i}"))];
        foreach (ActivationData activation in many)
        {
            table.GetOrAdd(activation);
        }

        Assert.Equal(1001, table.Count);
        Assert.Equal(1001, table.Snapshot().Distinct().Count());
        Assert.True(table.TryRemove(first));
        Assert.False(table.TryGetValue(first.GrainId, out _));
        Assert.Equal(1000, table.Count);
        Assert.All(many, a => Assert.True(table.TryGetValue(a.GrainId, out ActivationData? same) && ReferenceEquals(same, a)));
    }

    [Fact]
    public async Task LookupsWithoutLocks_NeverMissAnActivationPresentThroughout_WhileOthersComeGoAndTheTableGrows()
    {
        var table = new ActivationTable();
        ActivationData[] resident = [.. Enumerable.Range(0, 200).Select(i => NewActivation($"resident{i}"))];
        foreach (ActivationData activation in resident)
        {
            table.GetOrAdd(activation);
        }

        using var stop = new CancellationTokenSource();
        int misses = 0;
        long lookups = 0;
        Task[] readers = [.. Enumerable.Range(0, 2).Select(r => Task.Run(() =>
        {
            var random = new Random(r);
            while (!stop.IsCancellationRequested)
            {
                ActivationData expected = resident[random.Next(resident.Length)];
                if (!table.TryGetValue(expected.GrainId, out ActivationData? found) || !ReferenceEquals(found, expected))
                {
                    Interlocked.Increment(ref misses);
                }

                Interlocked.Increment(ref lookups);
            }
        }))];

        // Churn only once the readers are running: 40,000 activations come (the table resizes 9 times)
        // and half of them go again.
        DateTime deadline = DateTime.UtcNow.AddSeconds(30);
        while (Interlocked.Read(ref lookups) == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Yield();
        }

        long lookupsBefore = Interlocked.Read(ref lookups);
        for (int i = 0; i < 40_000; i++)
        {
            ActivationData transient = NewActivation($"transient{i}");
            table.GetOrAdd(transient);
            if (i % 2 == 0)
            {
                Assert.True(table.TryRemove(transient));
            }
        }

        long lookupsDuring = Interlocked.Read(ref lookups) - lookupsBefore;
        await stop.CancelAsync();
        await Task.WhenAll(readers);

        Assert.Equal(0, misses);
        Assert.True(lookupsBefore > 0, "the readers never started");
        Assert.True(lookupsDuring > 0, "no lookup ran while the table changed");
        Assert.Equal(200 + 20_000, table.Count);
    }
}
