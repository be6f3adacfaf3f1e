using PresenceGrid.Runtime.Configuration;
using PresenceGrid.Testing;

namespace PresenceGrid.Runtime.Tests;

/// <summary>Timers, idle collection and call timeouts, driven by a manual clock: no test sleeps.</summary>
public sealed class TimeTests : IAsyncLifetime
{
    private readonly ManualTimeProvider _clock = new();
    private InProcessSilo _silo = null!;

    public async Task InitializeAsync() => _silo = await InProcessSilo.StartAsync(
        silo => silo
            .AddMemoryGrainStorage()
            .Configure<GrainCollectionOptions>(o =>
            {
                o.CollectionAge = TimeSpan.FromMinutes(10);
                o.CollectionQuantum = TimeSpan.FromMinutes(1);
            })
            .Configure<SiloMessagingOptions>(o =>
            {
                o.ResponseTimeout = TimeSpan.FromSeconds(5);
                o.MaxEnqueuedRequests = 3;
            }),
        _clock);

    public async Task DisposeAsync() => await _silo.DisposeAsync();

    [Fact]
    public async Task IdleActivation_IsCollectedAfterCollectionAge_AndNextCallReactivates()
    {
        string key = Guid.NewGuid().ToString();
        var grain = _silo.GrainFactory.GetGrain<ICounterGrain>(key);
        Guid first = await grain.GetActivationId();

        _clock.Advance(TimeSpan.FromMinutes(9));
        Assert.Equal(first, await grain.GetActivationId());
        Assert.Empty(Lifecycle.DeactivationsOf(key));

        _clock.Advance(TimeSpan.FromMinutes(11));
        await Eventually.TrueAsync(() => Lifecycle.DeactivationsOf(key).Length == 1, "idle deactivation");

        Assert.Equal([DeactivationReasonCode.ActivationIdle], Lifecycle.DeactivationsOf(key));
        Assert.NotEqual(first, await grain.GetActivationId());
        Assert.Equal(2, Lifecycle.ActivationsOf(key));
    }

    [Fact]
    public async Task DelayDeactivation_KeepsActivationPastCollectionAge()
    {
        string key = Guid.NewGuid().ToString();
        var grain = _silo.GrainFactory.GetGrain<ICounterGrain>(key);
        Guid first = await grain.GetActivationId();
        await grain.KeepAliveFor(TimeSpan.FromMinutes(30));

        _clock.Advance(TimeSpan.FromMinutes(20));

        // A collection request would have been queued before this call: same activation means none ran.
        Assert.Equal(first, await grain.GetActivationId());
        Assert.Empty(Lifecycle.DeactivationsOf(key));
    }

    [Fact]
    public async Task DeactivateOnIdle_RunsOnDeactivate_AndNextCallReactivates()
    {
        string key = Guid.NewGuid().ToString();
        var grain = _silo.GrainFactory.GetGrain<ICounterGrain>(key);
        Guid first = await grain.GetActivationId();

        await grain.Deactivate();
        Guid second = await grain.GetActivationId();

        Assert.NotEqual(first, second);
        Assert.Equal([DeactivationReasonCode.ApplicationRequested], Lifecycle.DeactivationsOf(key));
        Assert.Equal(2, Lifecycle.ActivationsOf(key));
    }

    [Fact]
    public async Task Timer_TicksEveryPeriod_OnTheManualClock()
    {
        var grain = _silo.GrainFactory.GetGrain<ITimerGrain>(Guid.NewGuid().ToString());
        await grain.Start(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10), interleave: false);

        _clock.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(0, await grain.Ticks());
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await grain.Ticks());
        _clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(2, await grain.Ticks());

        await grain.StopTimer();
        _clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(2, await grain.Ticks());
    }

    [Fact]
    public async Task TimerTick_NeverOverlapsARequest()
    {
        string gate = Guid.NewGuid().ToString();
        var grain = _silo.GrainFactory.GetGrain<ITimerGrain>(Guid.NewGuid().ToString());
        await grain.Start(TimeSpan.FromSeconds(2), Timeout.InfiniteTimeSpan, interleave: false);

        // (Less than the 5 s response timeout, which the same clock drives.)
        Task blocking = grain.BlockOn(gate);
        _clock.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(0, await grain.TicksNow());
        Gates.Open(gate);
        await Eventually.Within(blocking);
        Assert.Equal(1, await grain.Ticks());
    }

    [Fact]
    public async Task InterleavingTimer_TicksDuringAWaitingRequest()
    {
        string gate = Guid.NewGuid().ToString();
        var grain = _silo.GrainFactory.GetGrain<ITimerGrain>(Guid.NewGuid().ToString());
        await grain.Start(TimeSpan.FromSeconds(2), Timeout.InfiniteTimeSpan, interleave: true);

        Task blocking = grain.BlockOn(gate);
        _clock.Advance(TimeSpan.FromSeconds(2));

        await Eventually.TrueAsync(() => grain.TicksNow().Result == 1, "interleaved tick");
        Gates.Open(gate);
        await Eventually.Within(blocking);
    }

    [Fact]
    public async Task Timers_ChangedManyTimes_FireOnceAtTheLastDueTime_AndTheQueueStaysSmall()
    {
        var grain = _silo.GrainFactory.GetGrain<ITimerGrain>(Guid.NewGuid().ToString());
        Timers.GrainTimerQueue timers = _silo.Silo.Runtime.GrainTimers;
        int timersBefore = timers.Count;
        await grain.Start(TimeSpan.FromSeconds(5), Timeout.InfiniteTimeSpan, interleave: false);

        // Every change moves the timer within the silo's heap: nothing stale is left behind.
        for (int i = 1; i <= 3000; i++)
        {
            await grain.Change(TimeSpan.FromSeconds(5 + (i % 7)), Timeout.InfiniteTimeSpan);
        }

        await grain.Change(TimeSpan.FromSeconds(30), Timeout.InfiniteTimeSpan);
        Assert.Equal(timersBefore + 1, timers.Count);
        Assert.True(timers.Capacity <= Math.Max(16, 4 * timers.Count), $"{timers.Capacity} heap slots for {timers.Count} timers");
        _clock.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(0, await grain.Ticks());

        _clock.Advance(TimeSpan.FromSeconds(1));
        await Eventually.TrueAsync(async () => await grain.Ticks() == 1, "the last due time fired");
        _clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(1, await grain.Ticks());
    }

    [Fact]
    public async Task Timers_OfManyGrains_FireInDueOrder_OnOneProviderTimer()
    {
        ITimerGrain[] grains = [.. Enumerable.Range(0, 20).Select(_ => _silo.GrainFactory.GetGrain<ITimerGrain>(Guid.NewGuid().ToString()))];
        await Task.WhenAll(grains.Select(g => g.Ticks()));
        int providerTimersBefore = _clock.ActiveTimerCount; // the silo's own (collector, response timeouts), and the grain timer queue's when armed
        for (int i = 0; i < grains.Length; i++)
        {
            await grains[i].Start(TimeSpan.FromSeconds(20 - i), Timeout.InfiniteTimeSpan, interleave: false);
        }

        Assert.True(_clock.ActiveTimerCount <= providerTimersBefore + 1, $"{_clock.ActiveTimerCount} provider timers for 20 grain timers (had {providerTimersBefore})");
        for (int second = 1; second <= 20; second++)
        {
            _clock.Advance(TimeSpan.FromSeconds(1));
            int fired = second;
            await Eventually.TrueAsync(async () => (await Task.WhenAll(grains.Select(g => g.Ticks()))).Sum() == fired, $"{fired} timers fired after {second} s");
        }
    }

    [Fact]
    public async Task Timers_MovedEarlierLaterAndStopped_FireAtTheirLastDueTime()
    {
        // 60 timers moved around the heap at random (earlier, later, stopped, restarted): each one
        // that is still running fires exactly once, in the second of its last due time.
        var random = new Random(7);
        ITimerGrain[] grains = [.. Enumerable.Range(0, 60).Select(_ => _silo.GrainFactory.GetGrain<ITimerGrain>(Guid.NewGuid().ToString()))];
        var lastDue = new int?[grains.Length];
        var stopped = new bool[grains.Length];
        for (int i = 0; i < grains.Length; i++)
        {
            lastDue[i] = 1 + random.Next(30);
            await grains[i].Start(TimeSpan.FromSeconds(lastDue[i]!.Value), Timeout.InfiniteTimeSpan, interleave: false);
        }

        for (int round = 0; round < 10; round++)
        {
            for (int i = 0; i < grains.Length; i++)
            {
                if (random.Next(6) == 0)
                {
                    await grains[i].StopTimer();
                    lastDue[i] = null;
                    stopped[i] = true;
                }
                else
                {
                    int due = 1 + random.Next(30);
                    await (stopped[i]
                        ? grains[i].Start(TimeSpan.FromSeconds(due), Timeout.InfiniteTimeSpan, interleave: false)
                        : grains[i].Change(TimeSpan.FromSeconds(due), Timeout.InfiniteTimeSpan));
                    lastDue[i] = due;
                    stopped[i] = false;
                }
            }
        }

        for (int second = 1; second <= 31; second++)
        {
            _clock.Advance(TimeSpan.FromSeconds(1));
            int[] expected = [.. lastDue.Select(d => d is { } due && due <= second ? 1 : 0)];
            await Eventually.TrueAsync(
                async () => (await Task.WhenAll(grains.Select(g => g.Ticks()))).SequenceEqual(expected),
                $"the timers due by {second} s fired, and no others");
        }
    }

    [Fact]
    public async Task Timers_AreDisposedOnDeactivation()
    {
        string key = Guid.NewGuid().ToString();
        var grain = _silo.GrainFactory.GetGrain<ITimerGrain>(key);
        await grain.Ticks();
        Timers.GrainTimerQueue timers = _silo.Silo.Runtime.GrainTimers;
        int timersBefore = timers.Count;
        await grain.Start(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10), interleave: false);
        Assert.Equal(timersBefore + 1, timers.Count);
        _clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(1, await grain.Ticks());

        await grain.Deactivate();
        await Eventually.TrueAsync(() => timers.Count == timersBefore, "timer disposed");
        _clock.Advance(TimeSpan.FromSeconds(60));

        Assert.Equal(1, Lifecycle.TicksOf(key));
        Assert.Equal(0, await grain.Ticks());
    }

    [Fact]
    public async Task CallWithoutResponse_TimesOut_NamingGrainMethodAndTime()
    {
        string gate = Guid.NewGuid().ToString();
        string key = Guid.NewGuid().ToString();
        var grain = _silo.GrainFactory.GetGrain<ITurnGrain>(key);

        Task waiting = grain.WaitForGate(gate);
        await grain.Probe();
        _clock.Advance(TimeSpan.FromSeconds(6));

        var timeout = await Assert.ThrowsAsync<GrainCallTimeoutException>(() => Eventually.Within(waiting));
        Assert.Equal(new GrainId("turn", key), timeout.GrainId);
        Assert.EndsWith(".WaitForGate", timeout.Method);
        Assert.Equal(TimeSpan.FromSeconds(5), timeout.Timeout);
        Assert.Contains($"turn/{key}", timeout.Message);
        Assert.Contains("WaitForGate", timeout.Message);
        Assert.Contains("5000 ms", timeout.Message);

        Gates.Open(gate);
        await Eventually.Within(grain.Ping());
    }

    [Fact]
    public async Task RequestCycleBetweenNonReentrantGrains_TimesOutInsteadOfHanging()
    {
        var a = _silo.GrainFactory.GetGrain<IPingGrain>(Guid.NewGuid().ToString());

        // a -> b -> a: a is busy waiting for b, so b's call back waits for a: a deadlock that the
        // response timeout breaks. This is why presence notifications are one-way.
        Task<int> cycle = a.CallPeerWhoCallsBack(Guid.NewGuid().ToString());
        await Eventually.TrueAsync(() => _silo.Silo.Runtime.InFlight.Count >= 3, "three calls in flight");
        _clock.Advance(TimeSpan.FromSeconds(6));

        await Assert.ThrowsAsync<GrainCallTimeoutException>(() => Eventually.Within(cycle));
    }

    [Fact]
    public async Task FullQueue_RejectsWithOverloadException_AndKeepsAcceptedRequests()
    {
        string gate = Guid.NewGuid().ToString();
        string key = Guid.NewGuid().ToString();
        var grain = _silo.GrainFactory.GetGrain<ITurnGrain>(key);

        Task running = grain.WaitForGate(gate);
        Task[] queued = [grain.Ping(), grain.Ping(), grain.Ping()];
        Task rejected = grain.Ping();

        var overload = await Assert.ThrowsAsync<GrainOverloadedException>(() => Eventually.Within(rejected));
        Assert.Equal(3, overload.Limit);
        Assert.Contains($"turn/{key}", overload.Message);
        Assert.Contains("Ping", overload.Message);

        Gates.Open(gate);
        await Eventually.Within(Task.WhenAll([running, .. queued]));
        Assert.Equal(["wait-start", "wait-end", "ping", "ping", "ping"], await grain.Probe());
    }
}
