namespace PresenceGrid.Postgres.Tests;

/// <summary>Says which silo its activation lives on.</summary>
public interface ISiloAddressGrain : IGrainWithIntegerKey
{
    Task<SiloAddress> GetSiloAddress();
}

public sealed class SiloAddressGrain(ILocalSiloDetails silo) : Grain, ISiloAddressGrain
{
    public Task<SiloAddress> GetSiloAddress() => Task.FromResult(silo.SiloAddress);
}

/// <summary>A grain whose state lives in the PostgreSQL grain storage.</summary>
public interface IStatefulGrain : ISiloAddressGrain
{
    Task Set(int value);

    Task<int> Get();

    Task Clear();
}

[GenerateSerializer]
public sealed class CounterState
{
    [Id(0)]
    public int Value { get; set; }
}

public sealed class StatefulGrain(
    [PersistentState("counter", ClusterConfigurators.StorageName)] IPersistentState<CounterState> state,
    ILocalSiloDetails silo) : Grain, IStatefulGrain
{
    public Task Set(int value)
    {
        state.State.Value = value;
        return state.WriteStateAsync();
    }

    public Task<int> Get() => Task.FromResult(state.State.Value);

    public Task Clear() => state.ClearStateAsync();

    public Task<SiloAddress> GetSiloAddress() => Task.FromResult(silo.SiloAddress);
}
