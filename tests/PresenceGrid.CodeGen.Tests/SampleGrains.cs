using PresenceGrid.Concurrency;
using PresenceGrid.Persistence;

namespace PresenceGrid.CodeGen.Tests.Samples;

public sealed record Address(string Street, int Number);

public sealed class CounterState
{
    public int Count { get; set; }
}

public interface IClock
{
    DateTimeOffset Now { get; }
}

public sealed class FixedClock : IClock
{
    public DateTimeOffset Now { get; } = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
}

/// <summary>Every return shape, the concurrency attributes, overloads, a nullable and a record argument.</summary>
public interface ICounterGrain : IGrainWithStringKey
{
    Task<int> Add(int amount);

    Task Reset();

    ValueTask<string> Describe(string? prefix);

    ValueTask Touch();

    [OneWay]
    Task Ping(string message);

    [OneWay]
    ValueTask PingValue(int value);

    [ReadOnly]
    Task<int> Get();

    [AlwaysInterleave]
    Task<Address> Move(Address address);

    Task<string> Echo(string value);

    Task<string> Echo(string value, int times);
}

/// <summary>Inherits every method of <see cref="ICounterGrain"/>.</summary>
public interface IAdvancedCounterGrain : ICounterGrain
{
    Task<long> Multiply(long factor, Address? where);
}

public interface IWorkerGrain : IGrainWithStringKey
{
    Task<string> Work(string input);
}

public interface INamedGrain : IGrainWithStringKey
{
    Task<bool> HasClock();
}

public interface IPooledGrain : IGrainWithStringKey
{
    Task<int> Id();
}

[Reentrant]
public sealed class CounterGrain : Grain, IAdvancedCounterGrain
{
    public CounterGrain()
        : this(new FixedClock(), null!)
    {
    }

    public CounterGrain(IClock clock, [PersistentState("count", "store")] IPersistentState<CounterState> state)
    {
        Clock = clock;
        State = state;
    }

    public IClock Clock { get; }

    public IPersistentState<CounterState> State { get; }

    public int Count { get; private set; }

    public List<string> Pings { get; } = [];

    public Task<int> Add(int amount) => Task.FromResult(Count += amount);

    public Task Reset()
    {
        Count = 0;
        return Task.CompletedTask;
    }

    public ValueTask<string> Describe(string? prefix) => new($"{prefix ?? "<none>"}:{Count}");

    public ValueTask Touch()
    {
        Count++;
        return default;
    }

    public Task Ping(string message)
    {
        Pings.Add(message);
        return Task.CompletedTask;
    }

    public ValueTask PingValue(int value)
    {
        Pings.Add(value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return default;
    }

    public Task<int> Get() => Task.FromResult(Count);

    public Task<Address> Move(Address address) => Task.FromResult(address with { Number = address.Number + 1 });

    public Task<string> Echo(string value) => Task.FromResult(value);

    public Task<string> Echo(string value, int times) => Task.FromResult(string.Concat(Enumerable.Repeat(value, times)));

    public Task<long> Multiply(long factor, Address? where) => Task.FromResult((long)Count * factor + (where?.Number ?? 0));
}

[StatelessWorker(3)]
public sealed class WorkerGrain : Grain, IWorkerGrain
{
    public Task<string> Work(string input) => Task.FromResult(input.ToUpperInvariant());
}

[GrainType("custom")]
public sealed class NamedGrain(IClock? clock) : Grain, INamedGrain
{
    public Task<bool> HasClock() => Task.FromResult(clock is not null);
}

[StatelessWorker]
public abstract class PooledBase : Grain
{
}

public sealed class PooledGrain : PooledBase, IPooledGrain
{
    public Task<int> Id() => Task.FromResult(7);
}
