using System.Diagnostics;
using Orleans.TestingHost;

namespace PresenceGrid.Cluster.Tests.Infrastructure;

/// <summary>Questions tests ask a running cluster.</summary>
public static class ClusterProbe
{
    /// <summary>The key of a (random-placed) <see cref="IWhereGrain"/> whose activation lives on <paramref name="silo"/>.</summary>
    public static async Task<long> FindGrainOn(IClusterClient client, SiloAddress silo, long firstKey = 0)
    {
        for (long key = firstKey; key < firstKey + 500; key++)
        {
            if ((await client.GetGrain<IWhereGrain>(key).GetSiloAddress()).Equals(silo))
            {
                return key;
            }
        }

        throw new InvalidOperationException($"No grain of 500 landed on {silo}.");
    }

    /// <summary>The silos the cluster's management grain counts as active.</summary>
    public static async Task<IReadOnlyCollection<SiloAddress>> ActiveSilos(IClusterClient client) =>
        (await client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true)).Keys;

    /// <summary>Starts the client; returns how it failed (null if it started) and how long that took.</summary>
    public static async Task<(Exception? Error, TimeSpan Elapsed)> TryStartClient(InProcessTestCluster cluster, TimeSpan bound)
    {
        var stopwatch = Stopwatch.StartNew();
        Exception? error = await Record.ExceptionAsync(() => cluster.InitializeClientAsync().WaitAsync(bound));
        return (error, stopwatch.Elapsed);
    }
}
