using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Security.Cryptography;
using System.Text;
using PresenceGrid.Runtime.GrainDirectory;

namespace PresenceGrid.Runtime.Networking;

/// <summary>
/// The handshake. Each side writes a block <c>[u32 LE length ≤ 1 KiB][Hello]</c> with
/// <c>Hello = "PGRD" | version:u16 LE | role:u8 (0 dialer, 1 acceptor) | clusterId:u16 LE length + UTF-8 |
/// endpoint:u16 LE length + UTF-8 | generation:i64 LE | nonce:32 random bytes</c>, reads the peer's, checks it, then writes
/// <c>[u32 LE 32][Proof]</c> with <c>Proof = HMAC-SHA256(secret, "pg-silo-auth" | role label | myHello | peerHello)</c> and checks
/// the peer's proof with <see cref="CryptographicOperations.FixedTimeEquals"/> against every accepted secret; finally each
/// side writes <c>[u32 LE 2]"OK"</c> and waits for the peer's, so a refusal by either end fails both. Nonces from
/// both ends make a proof useless on another connection; the role label stops a proof being reflected back.
/// </summary>
internal static class SiloHandshake
{
    public const ushort ProtocolVersion = 1;

    public const int MaxBlockBytes = 1024;

    public const int NonceBytes = 32;

    public const int ProofBytes = 32;

    /// <summary>The last block each side writes: "I accepted your proof". Until both arrive, nothing else is sent.</summary>
    public static readonly byte[] Accepted = "OK"u8.ToArray();

    private static readonly byte[] Magic = "PGRD"u8.ToArray();

    private static readonly byte[] Label = "pg-silo-auth"u8.ToArray();

    private static readonly byte[] DialerLabel = "dialer"u8.ToArray();

    private static readonly byte[] AcceptorLabel = "acceptor"u8.ToArray();

    public static byte[] CreateHello(bool dialer, string clusterId, SiloAddress local)
    {
        byte[] cluster = Encoding.UTF8.GetBytes(clusterId);
        byte[] endpoint = Encoding.UTF8.GetBytes(local.Endpoint);
        int length = 4 + 2 + 1 + 2 + cluster.Length + 2 + endpoint.Length + 8 + NonceBytes;
        if (length > MaxBlockBytes)
        {
            throw new InvalidOperationException($"The hello ({length} bytes) exceeds {MaxBlockBytes} bytes; shorten the cluster id or endpoint.");
        }

        byte[] hello = new byte[length];
        var span = hello.AsSpan();
        Magic.CopyTo(span);
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], ProtocolVersion);
        span[6] = dialer ? (byte)0 : (byte)1;
        int at = 7;
        at = WriteString(span, at, cluster);
        at = WriteString(span, at, endpoint);
        BinaryPrimitives.WriteInt64LittleEndian(span[at..], local.Generation);
        at += 8;
        RandomNumberGenerator.Fill(span.Slice(at, NonceBytes));
        return hello;
    }

    /// <summary>Parses a peer's hello; returns null with a reason when it is malformed.</summary>
    public static (string ClusterId, SiloAddress Silo, bool Dialer)? ParseHello(ReadOnlySpan<byte> hello, out string? error)
    {
        error = null;
        if (hello.Length < 7 + 2 + 2 + 8 + NonceBytes || !hello[..4].SequenceEqual(Magic))
        {
            error = "not a PresenceGrid silo hello";
            return null;
        }

        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(hello[4..]);
        if (version != ProtocolVersion)
        {
            error = $"protocol version {version} is not {ProtocolVersion}";
            return null;
        }

        bool dialer = hello[6] == 0;
        int at = 7;
        if (!TryReadString(hello, ref at, out string? cluster) || !TryReadString(hello, ref at, out string? endpoint)
            || hello.Length != at + 8 + NonceBytes)
        {
            error = "malformed hello";
            return null;
        }

        long generation = BinaryPrimitives.ReadInt64LittleEndian(hello[at..]);
        return (cluster, new SiloAddress(endpoint, generation), dialer);
    }

    public static byte[] ComputeProof(byte[] key, bool dialer, ReadOnlySpan<byte> senderHello, ReadOnlySpan<byte> receiverHello)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        hmac.AppendData(Label);
        hmac.AppendData(dialer ? DialerLabel : AcceptorLabel);
        hmac.AppendData(senderHello);
        hmac.AppendData(receiverHello);
        return hmac.GetHashAndReset();
    }

    /// <summary>True when <paramref name="proof"/> was made with any of <paramref name="keys"/>; compares in fixed time.</summary>
    public static bool VerifyProof(IReadOnlyList<byte[]> keys, bool peerIsDialer, ReadOnlySpan<byte> proof, ReadOnlySpan<byte> peerHello, ReadOnlySpan<byte> myHello)
    {
        bool ok = false;
        foreach (byte[] key in keys)
        {
            byte[] expected = ComputeProof(key, peerIsDialer, peerHello, myHello);
            ok |= CryptographicOperations.FixedTimeEquals(expected, proof);
        }

        return ok;
    }

    public static async ValueTask WriteBlockAsync(PipeWriter output, byte[] block, CancellationToken cancellationToken)
    {
        var span = output.GetSpan(4 + block.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)block.Length);
        block.CopyTo(span[4..]);
        output.Advance(4 + block.Length);
        var result = await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (result.IsCompleted || result.IsCanceled)
        {
            throw new IOException("The connection closed during the handshake.");
        }
    }

    /// <summary>Reads one length-prefixed block of at most <see cref="MaxBlockBytes"/>; longer blocks fail before buffering.</summary>
    public static async ValueTask<byte[]> ReadBlockAsync(PipeReader input, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (buffer.Length >= 4)
            {
                uint length = ReadLength(buffer);
                if (length > MaxBlockBytes)
                {
                    input.AdvanceTo(buffer.Start);
                    throw new InvalidDataException($"Handshake block of {length} bytes exceeds {MaxBlockBytes}.");
                }

                if (buffer.Length >= 4 + length)
                {
                    byte[] block = buffer.Slice(4, length).ToArray();
                    input.AdvanceTo(buffer.GetPosition(4 + length));
                    return block;
                }
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                input.AdvanceTo(buffer.Start, buffer.End);
                throw new IOException("The connection closed during the handshake.");
            }

            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static uint ReadLength(ReadOnlySequence<byte> buffer)
    {
        Span<byte> prefix = stackalloc byte[4];
        buffer.Slice(0, 4).CopyTo(prefix);
        return BinaryPrimitives.ReadUInt32LittleEndian(prefix);
    }

    private static int WriteString(Span<byte> span, int at, byte[] value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(span[at..], (ushort)value.Length);
        value.CopyTo(span[(at + 2)..]);
        return at + 2 + value.Length;
    }

    private static bool TryReadString(ReadOnlySpan<byte> span, ref int at, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value)
    {
        value = null;
        if (span.Length < at + 2)
        {
            return false;
        }

        int length = BinaryPrimitives.ReadUInt16LittleEndian(span[at..]);
        if (span.Length < at + 2 + length)
        {
            return false;
        }

        value = Encoding.UTF8.GetString(span.Slice(at + 2, length));
        at += 2 + length;
        return true;
    }
}
