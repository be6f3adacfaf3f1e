using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace PresenceGrid;

/// <summary>
/// A hash that is the same in every process, machine and run (xxHash32 over UTF-8), unlike
/// <see cref="string.GetHashCode()"/>. Placement and partitioning hash on it.
/// </summary>
public static class StableHash
{
    private const uint Prime1 = 2654435761U;
    private const uint Prime2 = 2246822519U;
    private const uint Prime3 = 3266489917U;
    private const uint Prime4 = 668265263U;
    private const uint Prime5 = 374761393U;

    /// <summary>Hashes the UTF-8 bytes of <paramref name="text"/> with the given seed.</summary>
    /// <param name="text">The text to hash.</param>
    /// <param name="seed">The seed (0 for grain ids).</param>
    /// <returns>The 32-bit hash.</returns>
    public static uint Compute(ReadOnlySpan<char> text, uint seed = 0)
    {
        int max = Encoding.UTF8.GetMaxByteCount(text.Length);
        byte[]? rented = null;
        Span<byte> buffer = max <= 512 ? stackalloc byte[max] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            int written = Encoding.UTF8.GetBytes(text, buffer);
            return Compute(buffer[..written], seed);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Hashes <paramref name="data"/> with xxHash32.</summary>
    /// <param name="data">The bytes to hash.</param>
    /// <param name="seed">The seed.</param>
    /// <returns>The 32-bit hash.</returns>
    public static uint Compute(ReadOnlySpan<byte> data, uint seed = 0)
    {
        int length = data.Length;
        uint h;
        int i = 0;
        if (length >= 16)
        {
            uint v1 = seed + Prime1 + Prime2;
            uint v2 = seed + Prime2;
            uint v3 = seed;
            uint v4 = seed - Prime1;
            for (; i <= length - 16; i += 16)
            {
                v1 = Round(v1, BinaryPrimitives.ReadUInt32LittleEndian(data[i..]));
                v2 = Round(v2, BinaryPrimitives.ReadUInt32LittleEndian(data[(i + 4)..]));
                v3 = Round(v3, BinaryPrimitives.ReadUInt32LittleEndian(data[(i + 8)..]));
                v4 = Round(v4, BinaryPrimitives.ReadUInt32LittleEndian(data[(i + 12)..]));
            }

            h = BitOperations.RotateLeft(v1, 1) + BitOperations.RotateLeft(v2, 7)
                + BitOperations.RotateLeft(v3, 12) + BitOperations.RotateLeft(v4, 18);
        }
        else
        {
            h = seed + Prime5;
        }

        h += (uint)length;
        for (; i <= length - 4; i += 4)
        {
            h += BinaryPrimitives.ReadUInt32LittleEndian(data[i..]) * Prime3;
            h = BitOperations.RotateLeft(h, 17) * Prime4;
        }

        for (; i < length; i++)
        {
            h += data[i] * Prime5;
            h = BitOperations.RotateLeft(h, 11) * Prime1;
        }

        h ^= h >> 15;
        h *= Prime2;
        h ^= h >> 13;
        h *= Prime3;
        h ^= h >> 16;
        return h;
    }

    private static uint Round(uint acc, uint input)
    {
        acc += input * Prime2;
        acc = BitOperations.RotateLeft(acc, 13);
        return acc * Prime1;
    }
}
