namespace PresenceGrid.Postgres.Tests;

/// <summary>Says which silo its activation lives on.</summary>
public interface ISiloAddressGrain : IGrainWithIntegerKey
{
    Task<SiloAddress> GetSiloAddress();
}

// Orleans.Grain spelled out: inside PresenceGrid.* namespaces the simple name finds the home-made PresenceGrid.Grain first.
public sealed class SiloAddressGrain(ILocalSiloDetails silo) : Orleans.Grain, ISiloAddressGrain
{
    public Task<SiloAddress> GetSiloAddress() => Task.FromResult(silo.SiloAddress);
}
