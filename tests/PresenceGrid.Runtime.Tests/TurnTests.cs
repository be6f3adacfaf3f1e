using PresenceGrid.Testing;

namespace PresenceGrid.Runtime.Tests;

public sealed class TurnTests : IAsyncLifetime
{
    private InProcessSilo _silo = null!;

    public async Task InitializeAsync() => _silo = await InProcessSilo.StartAsync();

    public async Task DisposeAsync() => await _silo.DisposeAsync();

    [Fact]
    public async Task NonReentrant_ConcurrentRequests_NeverInterleave()
    {
        var grain = _silo.GrainFactory.GetGrain<ICounterGrain>(Guid.NewGuid().ToString());

        // Each Increment reads, yields three times, then writes: interleaving would lose updates
        // or make the grain throw.
        int[] results = await Eventually.Within(Task.WhenAll(Enumerable.Range(0, 300).Select(_ => Task.Run(grain.Increment))));

        Assert.Equal(Enumerable.Range(1, 300), results.Order());
        Assert.Equal(300, await grain.Get());
    }

    [Fact]
    public async Task NonReentrant_WaitingRequest_BlocksOtherRequests_ButNotAlwaysInterleave()
    {
        string gate = Guid.NewGuid().ToString();
        var grain = _silo.GrainFactory.GetGrain<ITurnGrain>(Guid.NewGuid().ToString());

        Task waiting = grain.WaitForGate(gate);
        Task ping = grain.Ping();
        string[] during = await Eventually.Within(grain.Probe());

        Assert.Equal(["wait-start"], during);
        Assert.False(ping.IsCompleted);

        Gates.Open(gate);
        await Eventually.Within(Task.WhenAll(waiting, ping));
        Assert.Equal(["wait-start", "wait-end", "ping"], await grain.Probe());
    }

    [Fact]
    public async Task Reentrant_RequestRunsWhileAnotherAwaits()
    {
        string gate = Guid.NewGuid().ToString();
        var grain = _silo.GrainFactory.GetGrain<IReentrantTurnGrain>(Guid.NewGuid().ToString());

        Task waiting = grain.WaitForGate(gate);
        await Eventually.Within(grain.Ping());

        Assert.Equal(["wait-start", "ping"], await grain.Probe());
        Assert.False(waiting.IsCompleted);
        Gates.Open(gate);
        await Eventually.Within(waiting);
        Assert.Equal(["wait-start", "ping", "wait-end"], await grain.Probe());
    }

    [Fact]
    public async Task ReadOnly_InterleavesWithReadOnly_NotWithWrites()
    {
        string gate = Guid.NewGuid().ToString();
        var grain = _silo.GrainFactory.GetGrain<ITurnGrain>(Guid.NewGuid().ToString());

        Task reading = grain.ReadWait(gate);
        await Eventually.Within(grain.ReadNow());
        Task write = grain.Ping();
        string[] during = await grain.Probe();

        Assert.Equal(["read-start", "read-now"], during);
        Assert.False(write.IsCompleted);
        Gates.Open(gate);
        await Eventually.Within(Task.WhenAll(reading, write));
        Assert.Equal(["read-start", "read-now", "read-end", "ping"], await grain.Probe());
    }

    [Fact]
    public async Task ReadOnly_DoesNotInterleaveWithRunningWrite()
    {
        string gate = Guid.NewGuid().ToString();
        var grain = _silo.GrainFactory.GetGrain<ITurnGrain>(Guid.NewGuid().ToString());

        Task writing = grain.WaitForGate(gate);
        Task read = grain.ReadNow();
        Assert.Equal(["wait-start"], await grain.Probe());
        Assert.False(read.IsCompleted);

        Gates.Open(gate);
        await Eventually.Within(Task.WhenAll(writing, read));
        Assert.Equal(["wait-start", "wait-end", "read-now"], await grain.Probe());
    }

    [Fact]
    public async Task OneWay_CompletesForCallerAtOnce_AndRunsInTurn()
    {
        string gate = Guid.NewGuid().ToString();
        var grain = _silo.GrainFactory.GetGrain<ITurnGrain>(Guid.NewGuid().ToString());

        Task waiting = grain.WaitForGate(gate);
        Task notify = grain.Notify("hello");

        Assert.True(notify.IsCompletedSuccessfully);
        Assert.Equal(["wait-start"], await grain.Probe());
        Gates.Open(gate);
        await Eventually.Within(waiting);
        await grain.Ping();
        Assert.Equal(["wait-start", "wait-end", "notify:hello", "ping"], await grain.Probe());
    }

    [Fact]
    public async Task OneWay_FailureDoesNotReachCaller_AndGrainKeepsWorking()
    {
        var grain = _silo.GrainFactory.GetGrain<ITurnGrain>(Guid.NewGuid().ToString());

        Task failing = grain.NotifyThrows();

        Assert.True(failing.IsCompletedSuccessfully);
        await Eventually.Within(grain.Ping());
        Assert.Equal(["ping"], await grain.Probe());
    }

    [Fact]
    public async Task Exceptions_ReachCaller_WithTypeAndMessage()
    {
        var grain = _silo.GrainFactory.GetGrain<ICounterGrain>(Guid.NewGuid().ToString());

        var sync = await Assert.ThrowsAsync<ArgumentException>(() => grain.ThrowNow("bad value"));
        var async = await Assert.ThrowsAsync<InvalidOperationException>(() => grain.ThrowAfterAwait("broken after await"));

        Assert.StartsWith("bad value", sync.Message);
        Assert.Equal("value", sync.ParamName);
        Assert.Equal("broken after await", async.Message);
        Assert.Equal(1, await grain.Increment());
    }
}
