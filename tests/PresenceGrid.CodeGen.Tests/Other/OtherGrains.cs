namespace PresenceGrid.CodeGen.Tests.Samples.Other;

/// <summary>Same simple name as <see cref="Samples.ICounterGrain"/>, another namespace.</summary>
public interface ICounterGrain : IGrainWithStringKey
{
    Task<int> Add(int amount);
}

/// <summary>A class named just "Grain": its grain type stays "grain".</summary>
public sealed class Grain : PresenceGrid.Grain, ICounterGrain
{
    public Task<int> Add(int amount) => Task.FromResult(amount * 2);
}
