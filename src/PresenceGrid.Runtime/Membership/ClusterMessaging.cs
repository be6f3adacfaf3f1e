using PresenceGrid.Runtime.GrainDirectory;

namespace PresenceGrid.Runtime.Membership;

/// <summary><see cref="IClusterMessaging"/> over the silo transport's system channels.</summary>
internal sealed class ClusterMessaging(ClusterServices cluster) : IClusterMessaging
{
    private IReadOnlyList<string> _peers = [];
    private Dictionary<string, SiloAddress> _byId = [];
    private long _version = -1;

    public IReadOnlyList<string> Peers
    {
        get
        {
            Refresh();
            return Volatile.Read(ref _peers);
        }
    }

    public void Send(string peer, string channel, ReadOnlyMemory<byte> payload)
    {
        Refresh();
        if (Volatile.Read(ref _byId).TryGetValue(peer, out SiloAddress? silo))
        {
            cluster.Messages.SendSystem(silo, channel, payload);
        }
    }

    public void Subscribe(string channel, Action<string, ReadOnlyMemory<byte>> handler) =>
        cluster.Messages.RegisterChannel(channel, (sender, payload) => handler(sender.ToString(), payload));

    private void Refresh()
    {
        ClusterView view = cluster.View;
        if (view.Version == Volatile.Read(ref _version))
        {
            return;
        }

        SiloAddress? local = cluster.Agent.Local;
        var byId = view.Active.Where(a => a != local).ToDictionary(a => a.ToString(), StringComparer.Ordinal);
        Volatile.Write(ref _byId, byId);
        Volatile.Write(ref _peers, [.. byId.Keys]);
        Volatile.Write(ref _version, view.Version);
    }
}
