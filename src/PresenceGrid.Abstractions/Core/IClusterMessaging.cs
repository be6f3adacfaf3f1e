namespace PresenceGrid;

/// <summary>
/// Silo-level messages between the silos of a cluster, for read models every silo keeps (such as
/// presence views and room memberships). Delivery is ordered per pair of silos and best effort: a
/// message to a silo that dies is lost, so receivers rebuild from durable state when they start.
/// Registered only when the silo is part of a cluster.
/// </summary>
public interface IClusterMessaging
{
    /// <summary>The other active silos (stable ids of silo incarnations).</summary>
    IReadOnlyList<string> Peers { get; }

    /// <summary>Sends <paramref name="payload"/> on <paramref name="channel"/> to one peer.</summary>
    /// <param name="peer">A peer from <see cref="Peers"/>.</param>
    /// <param name="channel">The channel.</param>
    /// <param name="payload">The bytes (not copied: do not change them afterwards).</param>
    void Send(string peer, string channel, ReadOnlyMemory<byte> payload);

    /// <summary>Handles messages of <paramref name="channel"/>; the handler runs on I/O threads and must not block.</summary>
    /// <param name="channel">The channel.</param>
    /// <param name="handler">Receives the sender's id and the payload.</param>
    void Subscribe(string channel, Action<string, ReadOnlyMemory<byte>> handler);
}
