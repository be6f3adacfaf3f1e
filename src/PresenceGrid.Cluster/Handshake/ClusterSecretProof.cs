using System.Security.Cryptography;
using System.Text;

namespace PresenceGrid.Cluster.Handshake;

/// <summary>
/// The cryptography of the cluster-secret handshake: the key derived from the secret and the
/// cluster id, and each side's proof over both nonces. The secret itself never leaves this type.
/// </summary>
internal sealed class ClusterSecretProof
{
    /// <summary>The bytes of a nonce and of a proof (SHA-256 sized).</summary>
    public const int Size = 32;

    private static readonly byte[] KeySalt = Encoding.ASCII.GetBytes("PresenceGrid cluster-secret handshake v1");

    private readonly byte[] _key;

    /// <summary>Derives the handshake key (HKDF-SHA256 of the secret, bound to the cluster id).</summary>
    /// <param name="secret">The shared cluster secret.</param>
    /// <param name="clusterId">Orleans' cluster id: a peer of another cluster fails the handshake.</param>
    public ClusterSecretProof(string secret, string clusterId)
    {
        _key = HKDF.DeriveKey(
            HashAlgorithmName.SHA256,
            Encoding.UTF8.GetBytes(secret),
            Size,
            KeySalt,
            Encoding.UTF8.GetBytes(clusterId));
    }

    /// <summary>A fresh random nonce.</summary>
    public static byte[] NewNonce() => RandomNumberGenerator.GetBytes(Size);

    /// <summary>
    /// The proof <paramref name="role"/> sends: HMAC-SHA256(key, role ‖ initiator nonce ‖ acceptor
    /// nonce). The role byte keeps one side's proof from being reflected back as the other's.
    /// </summary>
    /// <param name="role">The side that proves.</param>
    /// <param name="initiatorNonce">The nonce of the side that opened the connection.</param>
    /// <param name="acceptorNonce">The nonce of the side that accepted it.</param>
    /// <returns>The 32-byte proof.</returns>
    public byte[] Compute(HandshakeRole role, ReadOnlySpan<byte> initiatorNonce, ReadOnlySpan<byte> acceptorNonce)
    {
        Span<byte> message = stackalloc byte[1 + (2 * Size)];
        message[0] = (byte)role;
        initiatorNonce.CopyTo(message[1..]);
        acceptorNonce.CopyTo(message[(1 + Size)..]);
        return HMACSHA256.HashData(_key, message);
    }

    /// <summary>Checks a received proof in constant time.</summary>
    /// <param name="role">The side that sent <paramref name="proof"/>.</param>
    /// <param name="initiatorNonce">The initiator's nonce.</param>
    /// <param name="acceptorNonce">The acceptor's nonce.</param>
    /// <param name="proof">The received proof.</param>
    /// <returns>Whether the peer knows the secret (and the cluster id).</returns>
    public bool Verify(HandshakeRole role, ReadOnlySpan<byte> initiatorNonce, ReadOnlySpan<byte> acceptorNonce, ReadOnlySpan<byte> proof)
    {
        byte[] expected = Compute(role, initiatorNonce, acceptorNonce);
        return CryptographicOperations.FixedTimeEquals(expected, proof);
    }
}
