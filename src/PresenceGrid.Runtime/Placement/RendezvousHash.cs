using PresenceGrid.Placement;
using PresenceGrid.Runtime.GrainDirectory;

namespace PresenceGrid.Runtime.Placement;

/// <summary>
/// Rendezvous (highest random weight) placement: a grain goes to the active silo with the highest
/// <c>score(grain, silo)</c>. Adding or removing a silo moves only that silo's share of placements.
/// The hash itself (<see cref="RendezvousHashing"/>: a stable 64-bit FNV-1a with a murmur finaliser)
/// is shared with the client SDK, which finds a user's owner silo with it.
/// </summary>
internal static class RendezvousHash
{
    /// <summary>The 64-bit hash of a grain id's text form.</summary>
    public static ulong HashGrain(GrainId grainId) => RendezvousHashing.HashGrain(grainId.Type, grainId.Key);

    /// <summary>The 64-bit hash of a silo (endpoint and generation).</summary>
    public static ulong HashSilo(SiloAddress silo) => RendezvousHashing.HashSilo(silo.Endpoint, silo.Generation);

    /// <summary>The owner of <paramref name="grainHash"/> among <paramref name="silos"/> (hashes precomputed), or -1 when empty.</summary>
    public static int PickIndex(ulong grainHash, ReadOnlySpan<ulong> silos) => RendezvousHashing.PickIndex(grainHash, silos);
}
