namespace PresenceGrid.Cluster.Handshake;

/// <summary>Which end of a connection a handshake runs on; the value is the byte mixed into its proof.</summary>
internal enum HandshakeRole : byte
{
    /// <summary>The side that opened the connection (silo outbound, client).</summary>
    Initiator = 1,

    /// <summary>The side that accepted it (silo inbound, gateway).</summary>
    Acceptor = 2,
}
