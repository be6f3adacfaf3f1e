namespace PresenceGrid.Cluster.Tests;

/// <summary>Says which silo its activation lives on; placed at random so two silos both get some.</summary>
public interface IWhereGrain : IGrainWithIntegerKey
{
    Task<SiloAddress> GetSiloAddress();

    /// <summary>Calls another <see cref="IWhereGrain"/> (a silo-to-silo call when it lives elsewhere).</summary>
    Task<SiloAddress> GetSiloAddressOf(long otherKey);
}

[Orleans.Placement.RandomPlacement]
public sealed class WhereGrain(ILocalSiloDetails silo) : Grain, IWhereGrain
{
    public Task<SiloAddress> GetSiloAddress() => Task.FromResult(silo.SiloAddress);

    public Task<SiloAddress> GetSiloAddressOf(long otherKey) =>
        GrainFactory.GetGrain<IWhereGrain>(otherKey).GetSiloAddress();
}
