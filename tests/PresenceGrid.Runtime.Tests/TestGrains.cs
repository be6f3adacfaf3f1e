using System.Collections.Concurrent;
using PresenceGrid.Concurrency;
using PresenceGrid.Persistence;

namespace PresenceGrid.Runtime.Tests;

/// <summary>What test grains did, by key, across activations.</summary>
public static class Lifecycle
{
    private static readonly ConcurrentDictionary<string, int> Activations = new();
    private static readonly ConcurrentDictionary<string, int> Constructions = new();
    private static readonly ConcurrentDictionary<string, ConcurrentQueue<DeactivationReasonCode>> Deactivations = new();
    private static readonly ConcurrentDictionary<string, int> Ticks = new();

    public static int ActivationsOf(string key) => Activations.GetValueOrDefault(key);

    public static int ConstructionsOf(string key) => Constructions.GetValueOrDefault(key);

    public static DeactivationReasonCode[] DeactivationsOf(string key) =>
        Deactivations.TryGetValue(key, out var queue) ? [.. queue] : [];

    public static int TicksOf(string key) => Ticks.GetValueOrDefault(key);

    internal static void Constructed(string key) => Constructions.AddOrUpdate(key, 1, static (_, n) => n + 1);

    internal static void Activated(string key) => Activations.AddOrUpdate(key, 1, static (_, n) => n + 1);

    internal static void Deactivated(string key, DeactivationReasonCode reason) =>
        Deactivations.GetOrAdd(key, static _ => new()).Enqueue(reason);

    internal static void Ticked(string key) => Ticks.AddOrUpdate(key, 1, static (_, n) => n + 1);
}

public interface ICounterGrain : IGrainWithStringKey
{
    Task<int> Increment();

    Task<int> Get();

    Task<Guid> GetActivationId();

    Task ThrowAfterAwait(string message);

    Task ThrowNow(string message);

    Task<int> ValueTaskCount();

    ValueTask<int> ValueTaskIncrement();

    Task Deactivate();

    Task KeepAliveFor(TimeSpan time);
}

public sealed class CounterGrain : Grain, ICounterGrain
{
    private int _value;
    private bool _inside;

    public CounterGrain() => Lifecycle.Constructed(GetPrimaryKeyString());

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        Lifecycle.Activated(GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        Lifecycle.Deactivated(GetPrimaryKeyString(), reason.ReasonCode);
        return Task.CompletedTask;
    }

    public async Task<int> Increment()
    {
        // Read, yield several times, write: any interleaving of two turns loses an update or trips the flag.
        if (_inside)
        {
            throw new InvalidOperationException("Two requests ran interleaved in a non-reentrant grain.");
        }

        _inside = true;
        int value = _value;
        await Task.Yield();
        await Task.Yield();
        await Task.Yield();
        _value = value + 1;
        _inside = false;
        return _value;
    }

    public Task<int> Get() => Task.FromResult(_value);

    public Task<Guid> GetActivationId() => Task.FromResult(GrainContext.ActivationId);

    public async Task ThrowAfterAwait(string message)
    {
        await Task.Yield();
        throw new InvalidOperationException(message);
    }

    public Task ThrowNow(string message) => throw new ArgumentException(message, "value");

    public Task<int> ValueTaskCount() => Task.FromResult(_value);

    public async ValueTask<int> ValueTaskIncrement()
    {
        await Task.Yield();
        return ++_value;
    }

    public Task Deactivate()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    public Task KeepAliveFor(TimeSpan time)
    {
        DelayDeactivation(time);
        return Task.CompletedTask;
    }
}

/// <summary>Operations shared by the turn-test grains (non-reentrant and reentrant).</summary>
public interface ITurnGrainBase : IGrainWithStringKey
{
    Task WaitForGate(string gate);

    Task Ping();

    [AlwaysInterleave]
    Task<string[]> Probe();

    [ReadOnly]
    Task ReadWait(string gate);

    [ReadOnly]
    Task ReadNow();

    [OneWay]
    Task Notify(string text);

    [OneWay]
    Task NotifyThrows();
}

public interface ITurnGrain : ITurnGrainBase
{
}

public interface IReentrantTurnGrain : ITurnGrainBase
{
}

public abstract class TurnGrainBase : Grain, ITurnGrainBase
{
    private readonly List<string> _log = [];

    public async Task WaitForGate(string gate)
    {
        _log.Add("wait-start");
        await Gates.WaitAsync(gate);
        _log.Add("wait-end");
    }

    public Task Ping()
    {
        _log.Add("ping");
        return Task.CompletedTask;
    }

    public Task<string[]> Probe() => Task.FromResult(_log.ToArray());

    public async Task ReadWait(string gate)
    {
        _log.Add("read-start");
        await Gates.WaitAsync(gate);
        _log.Add("read-end");
    }

    public Task ReadNow()
    {
        _log.Add("read-now");
        return Task.CompletedTask;
    }

    public Task Notify(string text)
    {
        _log.Add("notify:" + text);
        return Task.CompletedTask;
    }

    public Task NotifyThrows() => throw new InvalidOperationException("one-way failure");
}

public sealed class TurnGrain : TurnGrainBase, ITurnGrain
{
}

[Reentrant]
public sealed class ReentrantTurnGrain : TurnGrainBase, IReentrantTurnGrain
{
}

public interface IWorkerGrain : IGrainWithStringKey
{
    Task<Guid> Work(string gate);
}

[StatelessWorker(2)]
public sealed class WorkerGrain : Grain, IWorkerGrain
{
    public async Task<Guid> Work(string gate)
    {
        await Gates.WaitAsync(gate);
        return GrainContext.ActivationId;
    }
}

public interface ITimerGrain : IGrainWithStringKey
{
    Task Start(TimeSpan due, TimeSpan period, bool interleave);

    Task<int> Ticks();

    [AlwaysInterleave]
    Task<int> TicksNow();

    Task BlockOn(string gate);

    Task StopTimer();

    Task Change(TimeSpan due, TimeSpan period);

    Task Deactivate();
}

public sealed class TimerGrain : Grain, ITimerGrain
{
    private IGrainTimer? _timer;
    private int _ticks;
    private bool _inRequest;
    private bool _interleave;

    public Task Start(TimeSpan due, TimeSpan period, bool interleave)
    {
        _timer?.Dispose();
        _interleave = interleave;
        _timer = RegisterGrainTimer(
            static (self, _) => self.OnTick(),
            this,
            new GrainTimerCreationOptions { DueTime = due, Period = period, Interleave = interleave });
        return Task.CompletedTask;
    }

    public Task<int> Ticks() => Task.FromResult(_ticks);

    public Task<int> TicksNow() => Task.FromResult(_ticks);

    public async Task BlockOn(string gate)
    {
        _inRequest = true;
        await Gates.WaitAsync(gate);
        _inRequest = false;
    }

    public Task StopTimer()
    {
        _timer?.Dispose();
        _timer = null;
        return Task.CompletedTask;
    }

    public Task Change(TimeSpan due, TimeSpan period)
    {
        _timer!.Change(due, period);
        return Task.CompletedTask;
    }

    public Task Deactivate()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    private async Task OnTick()
    {
        if (_inRequest && !_interleave)
        {
            throw new InvalidOperationException("A timer tick overlapped a request.");
        }

        _ticks++;
        Lifecycle.Ticked(GetPrimaryKeyString());
        await Task.Yield();
    }
}

public sealed class ProfileState
{
    public string? Name { get; set; }

    public int Writes { get; set; }
}

public sealed record ProfileSnapshot(string? Name, int Writes, string? Etag, bool RecordExists, Guid ActivationId);

public interface IProfileGrain : IGrainWithStringKey
{
    Task SetName(string name);

    Task<ProfileSnapshot> Get();

    Task Clear();

    Task Deactivate();
}

public sealed class ProfileGrain([PersistentState("profile")] IPersistentState<ProfileState> profile) : Grain, IProfileGrain
{
    public async Task SetName(string name)
    {
        profile.State.Name = name;
        profile.State.Writes++;
        await profile.WriteStateAsync();
    }

    public Task<ProfileSnapshot> Get() =>
        Task.FromResult(new ProfileSnapshot(profile.State.Name, profile.State.Writes, profile.Etag, profile.RecordExists, GrainContext.ActivationId));

    public Task Clear() => profile.ClearStateAsync();

    public Task Deactivate()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }
}

public interface IPingGrain : IGrainWithStringKey
{
    Task<int> CallPeer(string peer, int value);

    Task<int> Echo(int value);

    Task<int> CallPeerWhoCallsBack(string peer);

    Task<int> CallBack(string caller);

    [OneWay]
    Task Bounce(string from, int hops);

    Task<int> Received();
}

public sealed class PingGrain : Grain, IPingGrain
{
    private int _received;

    public Task<int> CallPeer(string peer, int value) => GrainFactory.GetGrain<IPingGrain>(peer).Echo(value);

    public Task<int> Echo(int value) => Task.FromResult(value + 1);

    public Task<int> CallPeerWhoCallsBack(string peer) => GrainFactory.GetGrain<IPingGrain>(peer).CallBack(GetPrimaryKeyString());

    public Task<int> CallBack(string caller) => GrainFactory.GetGrain<IPingGrain>(caller).Echo(1);

    public Task Bounce(string from, int hops)
    {
        _received++;
        if (hops > 0)
        {
            // One-way back to the sender, which may itself be busy sending to us: no deadlock.
            return GrainFactory.GetGrain<IPingGrain>(from).Bounce(GetPrimaryKeyString(), hops - 1);
        }

        return Task.CompletedTask;
    }

    public Task<int> Received() => Task.FromResult(_received);
}

public interface IFailingActivationGrain : IGrainWithStringKey
{
    Task<int> Get();
}

public sealed class FailingActivationGrain : Grain, IFailingActivationGrain
{
    public override Task OnActivateAsync(CancellationToken cancellationToken) =>
        throw new InvalidOperationException("activation refused for " + GetPrimaryKeyString());

    public Task<int> Get() => Task.FromResult(1);
}
