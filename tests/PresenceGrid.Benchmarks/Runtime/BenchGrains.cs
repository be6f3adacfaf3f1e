using PresenceGrid.Concurrency;

namespace PresenceGrid.Benchmarks.Runtime;

public interface IEchoGrain : IGrainWithStringKey
{
    Task<int> Echo(int value);

    Task Ping();

    /// <summary>Calls <paramref name="peer"/>'s Ping <paramref name="count"/> times in sequence.</summary>
    Task PingPeerVoid(string peer, int count);

    /// <summary>Calls <paramref name="peer"/>'s Echo <paramref name="count"/> times in sequence (grain-to-grain round trips).</summary>
    Task<int> PingPeer(string peer, int count);

    [OneWay]
    Task Tick();

    Task<int> Ticks();

    /// <summary>Completes when this grain has received <paramref name="ticks"/> one-way ticks in total.</summary>
    Task WaitForTicks(int ticks);
}

public sealed class EchoGrain : Grain, IEchoGrain
{
    private int _ticks;
    private int _waitFor = int.MaxValue;
    private TaskCompletionSource? _waiter;

    public Task<int> Echo(int value) => Task.FromResult(value);

    public Task Ping() => Task.CompletedTask;

    public async Task PingPeerVoid(string peer, int count)
    {
        IEchoGrain target = GrainFactory.GetGrain<IEchoGrain>(peer);
        for (int i = 0; i < count; i++)
        {
            await target.Ping();
        }
    }

    public async Task<int> PingPeer(string peer, int count)
    {
        IEchoGrain target = GrainFactory.GetGrain<IEchoGrain>(peer);
        int sum = 0;
        for (int i = 0; i < count; i++)
        {
            sum += await target.Echo(i);
        }

        return sum;
    }

    public Task Tick()
    {
        if (++_ticks >= _waitFor)
        {
            _waitFor = int.MaxValue;
            _waiter?.TrySetResult();
        }

        return Task.CompletedTask;
    }

    public Task<int> Ticks() => Task.FromResult(_ticks);

    public Task WaitForTicks(int ticks)
    {
        if (_ticks >= ticks)
        {
            return Task.CompletedTask;
        }

        _waitFor = ticks;
        _waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return _waiter.Task;
    }
}

public interface IRouterWorkerGrain : IGrainWithStringKey
{
    Task<int> Route(int value);
}

[StatelessWorker]
public sealed class RouterWorkerGrain : Grain, IRouterWorkerGrain
{
    public Task<int> Route(int value) => Task.FromResult(value * 2);
}
