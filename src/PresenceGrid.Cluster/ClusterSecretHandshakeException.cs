namespace PresenceGrid.Cluster;

/// <summary>
/// A connection was refused by the cluster-secret handshake. Orleans reports it as the inner
/// exception of its <c>ConnectionFailedException</c> when a client or silo cannot connect.
/// </summary>
public sealed class ClusterSecretHandshakeException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="failure">Why the handshake failed.</param>
    /// <param name="message">A message naming the peer and the reason (never the secret).</param>
    public ClusterSecretHandshakeException(HandshakeFailure failure, string message)
        : base(message)
    {
        Failure = failure;
    }

    /// <summary>Creates the exception with a cause.</summary>
    /// <param name="failure">Why the handshake failed.</param>
    /// <param name="message">A message naming the peer and the reason (never the secret).</param>
    /// <param name="innerException">The failure Orleans reported for the connection.</param>
    public ClusterSecretHandshakeException(HandshakeFailure failure, string message, Exception innerException)
        : base(message, innerException)
    {
        Failure = failure;
    }

    /// <summary>Creates the exception with a default message.</summary>
    public ClusterSecretHandshakeException()
        : this(HandshakeFailure.WrongProof, "The cluster-secret handshake failed.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public ClusterSecretHandshakeException(string message)
        : this(HandshakeFailure.WrongProof, message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public ClusterSecretHandshakeException(string message, Exception innerException)
        : base(message, innerException)
    {
        Failure = HandshakeFailure.WrongProof;
    }

    /// <summary>Why the handshake failed.</summary>
    public HandshakeFailure Failure { get; }
}
