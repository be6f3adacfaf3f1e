using System.Text;

namespace PresenceGrid.Placement;

/// <summary>
/// The rendezvous (highest random weight) hash on plain strings: a stable 64-bit FNV-1a over UTF-8 with a murmur
/// finaliser, the same in every process (never <c>string.GetHashCode</c>, which is randomised per process).
/// </summary>
/// <remarks>
/// Shared by the silo and the client SDK (internal, visible to both): the silo places user grains with it
/// (<c>UserOwnerPlacementDirector</c>), and the client SDK finds a user's owner silo with it
/// (<c>PresenceGridClientOptions.RouteToOwner</c>). Changing it changes placement: clients built against the old
/// hash then route to the wrong silo (which only costs a forward).
/// </remarks>
internal static class RendezvousHashing
{
    private const ulong FnvOffset = 14695981039346656037UL;
    private const ulong FnvPrime = 1099511628211UL;

    /// <summary>The hash state after <c>type/</c>: the part of a grain hash shared by every grain of one type.</summary>
    /// <param name="grainType">The grain type, for example <c>userpresence</c>.</param>
    /// <returns>The state to pass to <see cref="HashGrain(ulong, string)"/>.</returns>
    public static ulong GrainTypePrefix(string grainType) => (Mix(FnvOffset, grainType) ^ '/') * FnvPrime;

    /// <summary>The 64-bit hash of a grain id <c>type/key</c>, from the type's <see cref="GrainTypePrefix"/>.</summary>
    /// <param name="typePrefix">The grain type's prefix state.</param>
    /// <param name="key">The grain key, for example a user id.</param>
    /// <returns>The grain hash.</returns>
    public static ulong HashGrain(ulong typePrefix, string key) => Finalize(Mix(typePrefix, key));

    /// <summary>The 64-bit hash of a grain id <c>type/key</c>.</summary>
    /// <param name="grainType">The grain type.</param>
    /// <param name="key">The grain key.</param>
    /// <returns>The grain hash.</returns>
    public static ulong HashGrain(string grainType, string key) => HashGrain(GrainTypePrefix(grainType), key);

    /// <summary>The 64-bit hash of a silo: its silo-to-silo endpoint and its generation.</summary>
    /// <param name="endpoint">The silo-to-silo endpoint (<c>host:port</c>).</param>
    /// <param name="generation">The silo's generation (epoch).</param>
    /// <returns>The silo hash.</returns>
    public static ulong HashSilo(string endpoint, long generation)
    {
        ulong hash = Mix(FnvOffset, endpoint);
        hash = (hash ^ (ulong)generation) * FnvPrime;
        return Finalize(hash);
    }

    /// <summary>The score of a grain on a silo; the highest wins.</summary>
    /// <param name="grainHash">The grain hash.</param>
    /// <param name="siloHash">The silo hash.</param>
    /// <returns>The score.</returns>
    public static ulong Score(ulong grainHash, ulong siloHash) => Finalize(grainHash ^ (siloHash * 0x9E3779B97F4A7C15UL));

    /// <summary>
    /// The owner of <paramref name="grainHash"/> among <paramref name="silos"/> (silo hashes, in placement order: the
    /// silos sorted by <c>endpoint@generation</c>, ordinal; a tie goes to the first), or -1 when empty.
    /// </summary>
    /// <param name="grainHash">The grain hash.</param>
    /// <param name="silos">The silo hashes.</param>
    /// <returns>The index of the owner in <paramref name="silos"/>.</returns>
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
