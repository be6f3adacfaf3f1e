namespace PresenceGrid.Cluster;

/// <summary>Why a cluster-secret handshake failed (logged, and carried by <see cref="ClusterSecretHandshakeException"/>).</summary>
public enum HandshakeFailure
{
    /// <summary>The peer's first bytes are not a handshake: it runs without a cluster secret, or is not a PresenceGrid peer.</summary>
    NotAHandshake,

    /// <summary>The peer speaks another version of the handshake.</summary>
    UnsupportedVersion,

    /// <summary>The peer's proof is wrong: it has another secret or another cluster id.</summary>
    WrongProof,

    /// <summary>The peer closed the connection before the handshake completed (usually: it refused this side).</summary>
    ClosedByPeer,

    /// <summary>The peer did not complete the handshake before the deadline.</summary>
    Timeout,
}
