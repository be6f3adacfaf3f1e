using System.Text;
using PresenceGrid.Runtime.GrainDirectory;

namespace PresenceGrid.Runtime.Placement;

/// <summary>
/// Rendezvous (highest random weight) placement: a grain goes to the active silo with the highest
/// <c>score(grain, silo)</c>. Adding or removing a silo moves only that silo's share of placements.
/// The hash is a stable 64-bit FNV-1a with a murmur finaliser, so every silo and every process
/// computes the same owner (never <c>string.GetHashCode</c>, which is randomised per process).
/// </summary>
internal static class RendezvousHash
{
    private const ulong FnvOffset = 14695981039346656037UL;
    private const ulong FnvPrime = 1099511628211UL;

    /// <summary>The 64-bit hash of a grain id's text form.</summary>
    public static ulong HashGrain(GrainId grainId)
    {
        ulong hash = FnvOffset;
        hash = Mix(hash, grainId.Type);
        hash = (hash ^ '/') * FnvPrime;
        hash = Mix(hash, grainId.Key);
        return Finalize(hash);
    }

    /// <summary>The 64-bit hash of a silo (endpoint and generation).</summary>
    public static ulong HashSilo(SiloAddress silo)
    {
        ulong hash = Mix(FnvOffset, silo.Endpoint);
        hash = (hash ^ (ulong)silo.Generation) * FnvPrime;
        return Finalize(hash);
    }

    /// <summary>The score of a grain on a silo; the highest wins.</summary>
    public static ulong Score(ulong grainHash, ulong siloHash) => Finalize(grainHash ^ (siloHash * 0x9E3779B97F4A7C15UL));

    /// <summary>The owner of <paramref name="grainHash"/> among <paramref name="silos"/> (hashes precomputed), or -1 when empty.</summary>
    public static int PickIndex(ulong grainHash, ReadOnlySpan<ulong> silos)
    {
        int best = -1;
        ulong bestScore = 0;
        for (int i = 0; i < silos.Length; i++)
        {
            ulong score = Score(grainHash, silos[i]);
            if (best < 0 || score > bestScore)
            {
                best = i;
                bestScore = score;
            }
        }

        return best;
    }

    private static ulong Mix(ulong hash, string text)
    {
        Span<byte> buffer = stackalloc byte[256];
        int max = Encoding.UTF8.GetMaxByteCount(text.Length);
        byte[]? rented = max > buffer.Length ? new byte[max] : null;
        Span<byte> bytes = rented ?? buffer;
        int count = Encoding.UTF8.GetBytes(text, bytes);
        foreach (byte b in bytes[..count])
        {
            hash = (hash ^ b) * FnvPrime;
        }

        return hash;
    }

    private static ulong Finalize(ulong h)
    {
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdUL;
        h ^= h >> 33;
        h *= 0xc4ceb9fe1a85ec53UL;
        h ^= h >> 33;
        return h;
    }
}
