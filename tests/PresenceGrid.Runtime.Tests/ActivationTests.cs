using PresenceGrid.Testing;

namespace PresenceGrid.Runtime.Tests;

public sealed class ActivationTests : IAsyncLifetime
{
    private InProcessSilo _silo = null!;

    public async Task InitializeAsync() => _silo = await InProcessSilo.StartAsync(silo => silo.AddMemoryGrainStorage());

    public async Task DisposeAsync() => await _silo.DisposeAsync();

    [Fact]
    public async Task FirstCall_ActivatesGrain_OnceAndRunsOnActivate()
    {
        string key = Guid.NewGuid().ToString();
        var grain = _silo.GrainFactory.GetGrain<ICounterGrain>(key);
        Assert.Equal(0, Lifecycle.ActivationsOf(key));

        Assert.Equal(1, await grain.Increment());
        Assert.Equal(2, await grain.Increment());

        Assert.Equal(1, Lifecycle.ActivationsOf(key));
        Assert.Equal(1, Lifecycle.ConstructionsOf(key));
    }

    [Fact]
    public async Task ConcurrentFirstCalls_CreateExactlyOneActivation()
    {
        string key = Guid.NewGuid().ToString();
        Task<Guid>[] calls = Enumerable.Range(0, 200)
            .Select(_ => Task.Run(() => _silo.GrainFactory.GetGrain<ICounterGrain>(key).GetActivationId()))
            .ToArray();

        Guid[] ids = await Eventually.Within(Task.WhenAll(calls));

        Assert.Single(ids.Distinct());
        Assert.Equal(1, Lifecycle.ConstructionsOf(key));
        Assert.Equal(1, Lifecycle.ActivationsOf(key));
    }

    [Fact]
    public async Task References_AreEqualByGrainId_AndKeyIsVisibleToTheGrain()
    {
        var a = _silo.GrainFactory.GetGrain<ICounterGrain>("same");
        var b = _silo.GrainFactory.GetGrain<ICounterGrain>("same");
        var c = _silo.GrainFactory.GetGrain<ICounterGrain>("other");

        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.Equal(await a.GetActivationId(), await b.GetActivationId());
    }

    [Fact]
    public async Task ValueTaskMethods_RoundTrip()
    {
        var grain = _silo.GrainFactory.GetGrain<ICounterGrain>(Guid.NewGuid().ToString());

        Assert.Equal(1, await grain.ValueTaskIncrement());
        Assert.Equal(2, await grain.ValueTaskIncrement());
        Assert.Equal(2, await grain.ValueTaskCount());
    }

    [Fact]
    public async Task GrainToGrainCall_ReturnsPeerResult()
    {
        var a = _silo.GrainFactory.GetGrain<IPingGrain>(Guid.NewGuid().ToString());

        Assert.Equal(42, await a.CallPeer(Guid.NewGuid().ToString(), 41));
    }

    [Fact]
    public async Task MutualOneWayNotifications_DoNotDeadlock()
    {
        string a = Guid.NewGuid().ToString();
        string b = Guid.NewGuid().ToString();
        var grainA = _silo.GrainFactory.GetGrain<IPingGrain>(a);
        var grainB = _silo.GrainFactory.GetGrain<IPingGrain>(b);

        // 41 one-way hops back and forth between two non-reentrant grains.
        await grainA.Bounce(b, 40);

        await Eventually.TrueAsync(
            () => grainA.Received().Result + grainB.Received().Result == 41,
            "all 41 notifications delivered");
        Assert.Equal(21, await grainA.Received());
        Assert.Equal(20, await grainB.Received());
    }

    [Fact]
    public async Task StatelessWorker_UsesUpToMaxLocalWorkers_AndIsNotInDirectory()
    {
        string gate = Guid.NewGuid().ToString();
        var worker = _silo.GrainFactory.GetGrain<IWorkerGrain>("router");

        Task<Guid>[] calls = Enumerable.Range(0, 6).Select(_ => worker.Work(gate)).ToArray();
        Gates.Open(gate);
        Guid[] ids = await Eventually.Within(Task.WhenAll(calls));

        Assert.Equal(2, ids.Distinct().Count());
        var directory = _silo.Services.GetRequiredService<PresenceGrid.Runtime.GrainDirectory.IGrainDirectory>();
        Assert.Null(await directory.LookupAsync(new GrainId("worker", "router")));
    }

    [Fact]
    public async Task GrainWithIdentity_IsRegisteredInDirectory()
    {
        string key = Guid.NewGuid().ToString();
        Guid activationId = await _silo.GrainFactory.GetGrain<ICounterGrain>(key).GetActivationId();

        var directory = _silo.Services.GetRequiredService<PresenceGrid.Runtime.GrainDirectory.IGrainDirectory>();
        var entry = await directory.LookupAsync(new GrainId("counter", key));

        Assert.NotNull(entry);
        Assert.Equal(activationId, entry.ActivationId);
        Assert.Equal(_silo.Silo.SiloAddress, entry.Silo);
    }

    [Fact]
    public void GetGrain_WithoutImplementation_FailsClearly()
    {
        var error = Assert.Throws<InvalidOperationException>(() => _silo.GrainFactory.GetGrain<IOrphanGrain>("x"));

        Assert.Contains("No grain class implements", error.Message);
        Assert.Contains(nameof(IOrphanGrain), error.Message);
    }

    [Fact]
    public async Task FailingOnActivate_FailsTheCall_AndLaterCallsTryAgain()
    {
        string key = Guid.NewGuid().ToString();
        var grain = _silo.GrainFactory.GetGrain<IFailingActivationGrain>(key);

        var first = await Assert.ThrowsAsync<GrainActivationException>(() => Eventually.Within(grain.Get()));
        var second = await Assert.ThrowsAsync<GrainActivationException>(() => Eventually.Within(grain.Get()));

        Assert.IsType<InvalidOperationException>(first.InnerException);
        Assert.Contains("activation refused for " + key, first.Message);
        Assert.Contains("activation refused", second.Message);
    }

    [Fact]
    public async Task Shutdown_DeactivatesGrains_WithShuttingDownReason()
    {
        string key = Guid.NewGuid().ToString();
        var silo = await InProcessSilo.StartAsync(s => s.AddMemoryGrainStorage());
        await silo.GrainFactory.GetGrain<ICounterGrain>(key).Increment();

        await silo.DisposeAsync();

        Assert.Equal([DeactivationReasonCode.ShuttingDown], Lifecycle.DeactivationsOf(key));
    }
}

public interface IOrphanGrain : IGrainWithStringKey
{
    Task Nothing();
}
