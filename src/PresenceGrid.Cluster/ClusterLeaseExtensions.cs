using Orleans.Configuration;

namespace PresenceGrid.Cluster;

/// <summary>
/// <c>cluster.lease_ms</c> → Orleans' failure detection, so that a killed silo is declared dead
/// within about the lease, and clients refresh their gateway list as often.
/// </summary>
/// <remarks>
/// The mapping, for a lease <c>L</c> (docs/cluster-security.md has the table):
/// <list type="bullet">
/// <item><see cref="ClusterMembershipOptions.ProbeTimeout"/> = <see cref="ClusterMembershipOptions.MaxProbeTimeout"/> = L/3,
/// <see cref="ClusterMembershipOptions.MinProbeTimeout"/> = L/6: a probe every L/3 at most;</item>
/// <item><see cref="ClusterMembershipOptions.NumMissedProbesLimit"/> = 2: a silent silo is suspected
/// after two missed probes, at most 2L/3, and its monitors vote it dead then (votes propagate by
/// gossip at once), so it is declared dead within about L;</item>
/// <item><see cref="ClusterMembershipOptions.DeathVoteExpirationTimeout"/> = 3L: votes outlive the time other monitors need to vote;</item>
/// <item><see cref="ClusterMembershipOptions.TableRefreshTimeout"/> = L: a silo that missed the gossip reads the table within L;</item>
/// <item><see cref="ClusterMembershipOptions.IAmAliveTablePublishTimeout"/> = L: a heartbeat row every L
/// (stale after 3L, with Orleans' <see cref="ClusterMembershipOptions.NumMissedTableIAmAliveLimit"/> of 3);</item>
/// <item>client: <see cref="GatewayOptions.GatewayListRefreshPeriod"/> = L.</item>
/// </list>
/// </remarks>
public static class ClusterLeaseExtensions
{
    /// <summary>The shortest lease (<c>cluster.lease_ms</c> 500).</summary>
    public static readonly TimeSpan MinimumLease = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest lease (<c>cluster.lease_ms</c> 600000).</summary>
    public static readonly TimeSpan MaximumLease = TimeSpan.FromMinutes(10);

    /// <summary>Sets this silo's failure detection from the lease (mapping in the type's remarks).</summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="lease"><c>cluster.lease_ms</c>, between <see cref="MinimumLease"/> and <see cref="MaximumLease"/>.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The lease is out of range.</exception>
    public static ISiloBuilder UseLeaseTime(this ISiloBuilder builder, TimeSpan lease)
    {
        ArgumentNullException.ThrowIfNull(builder);
        Validate(lease);
        return builder.Configure<ClusterMembershipOptions>(options => Apply(options, lease));
    }

    /// <summary>Sets this client's gateway-list refresh period to the lease.</summary>
    /// <param name="builder">The client builder.</param>
    /// <param name="lease"><c>cluster.lease_ms</c>, between <see cref="MinimumLease"/> and <see cref="MaximumLease"/>.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The lease is out of range.</exception>
    public static IClientBuilder UseLeaseTime(this IClientBuilder builder, TimeSpan lease)
    {
        ArgumentNullException.ThrowIfNull(builder);
        Validate(lease);
        return builder.Configure<GatewayOptions>(options => options.GatewayListRefreshPeriod = lease);
    }

    /// <summary>Applies the mapping in the type's remarks to <paramref name="options"/>.</summary>
    /// <param name="options">The silo's membership options.</param>
    /// <param name="lease">The validated lease.</param>
    private static void Apply(ClusterMembershipOptions options, TimeSpan lease)
    {
        TimeSpan probe = lease / 3;
        options.ProbeTimeout = probe;
        options.MaxProbeTimeout = probe;
        options.MinProbeTimeout = probe / 2;
        options.NumMissedProbesLimit = 2;
        options.DeathVoteExpirationTimeout = lease * 3;
        options.TableRefreshTimeout = lease;
        options.IAmAliveTablePublishTimeout = lease;
    }

    private static void Validate(TimeSpan lease)
    {
        if (lease < MinimumLease || lease > MaximumLease)
        {
            throw new ArgumentOutOfRangeException(
                nameof(lease),
                lease,
                $"cluster.lease_ms must be between {MinimumLease.TotalMilliseconds:0} and {MaximumLease.TotalMilliseconds:0} (got {lease.TotalMilliseconds:0}).");
        }
    }
}
