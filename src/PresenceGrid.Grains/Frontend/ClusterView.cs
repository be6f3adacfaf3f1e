using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime.MembershipService.SiloMetadata;
using PresenceGrid.Grains.Contracts;
using PresenceGrid.Placement;

namespace PresenceGrid.Frontend;

/// <summary>
/// The cluster membership as this silo sees it, for <c>GET /v1/admin/cluster</c> and
/// <see cref="IPresenceFrontendGrain.GetCluster"/>: each silo's name, address, status, activation count (Orleans'
/// management grain; a silo that does not answer within 2 s has none) and published HTTP endpoint.
/// </summary>
internal sealed class ClusterView(IServiceProvider services)
{
    /// <summary>The silo metadata key under which a silo publishes its HTTP endpoint (for owner routing).</summary>
    public const string HttpEndpointKey = "http_endpoint";

    /// <summary>The silos, oldest generation first.</summary>
    /// <returns>The membership.</returns>
    public async Task<ClusterResult> GetAsync()
    {
        var membership = services.GetRequiredService<IClusterMembershipService>();
        SiloAddress self = services.GetRequiredService<ILocalSiloDetails>().SiloAddress;
        IReadOnlyDictionary<SiloAddress, long> activations = await ActivationCountsAsync().ConfigureAwait(false);
        return new ClusterResult([.. membership.CurrentSnapshot.Members.Values
            .OrderBy(m => m.SiloAddress.Generation)
            .Select(member => new SiloResult(
                member.Name,
                UserOwnerPlacementDirector.PlacementName(member.SiloAddress),
                member.SiloAddress.Endpoint.ToString(),
                member.SiloAddress.Generation,
                member.Status.ToString().ToLowerInvariant(),
                activations.TryGetValue(member.SiloAddress, out long count) ? count : null,
                HttpEndpoint(member.SiloAddress),
                member.SiloAddress.Equals(self)))]);
    }

    /// <summary>The HTTP endpoint a silo published in its silo metadata, if any.</summary>
    /// <param name="silo">The silo.</param>
    /// <returns>The endpoint, or null.</returns>
    public string? HttpEndpoint(SiloAddress silo) =>
        services.GetService<ISiloMetadataCache>()?.GetSiloMetadata(silo).Metadata.GetValueOrDefault(HttpEndpointKey);

    private async Task<IReadOnlyDictionary<SiloAddress, long>> ActivationCountsAsync()
    {
        try
        {
            IManagementGrain management = services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0);
            SiloAddress[] hosts = [.. (await management.GetHosts(onlyActive: true).WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false)).Keys];
            SiloRuntimeStatistics[] statistics = await management.GetRuntimeStatistics(hosts).WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            var counts = new Dictionary<SiloAddress, long>();
            for (int i = 0; i < hosts.Length && i < statistics.Length; i++)
            {
                counts[hosts[i]] = statistics[i].ActivationCount;
            }

            return counts;
        }
        catch (Exception exception) when (exception is TimeoutException or OrleansException)
        {
            return new Dictionary<SiloAddress, long>();
        }
    }
}
