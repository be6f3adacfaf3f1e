using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PresenceGrid.Persistence;
using PresenceGrid.Runtime.GrainDirectory;
using PresenceGrid.Runtime.Membership;
using PresenceGrid.Runtime.Persistence;
using PresenceGrid.Runtime.Postgres;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Puts a silo's membership, grain directory and default grain storage on PostgreSQL.</summary>
public static class PostgresClusteringExtensions
{
    /// <summary>
    /// Joins the cluster <see cref="PostgresClusterOptions.ClusterId"/> in the database of
    /// <see cref="PostgresClusterOptions.ConnectionString"/>: membership with leases judged by the
    /// database clock, the grain directory, and fenced, group-committed default grain storage. The
    /// schema is created or migrated when the silo starts. Combine with a transport
    /// (<c>UseSiloTransport</c>).
    /// </summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="configure">Sets connection string and cluster id.</param>
    /// <param name="configureCluster">Sets lease and forwarding options.</param>
    /// <returns>The silo builder.</returns>
    public static ISiloBuilder UsePostgresClustering(this ISiloBuilder builder, Action<PostgresClusterOptions> configure, Action<ClusterOptions>? configureCluster = null)
    {
        ArgumentNullException.ThrowIfNull(configure);
        IServiceCollection services = builder.Services;
        services.AddOptions<PostgresClusterOptions>().Configure(configure);
        services.TryAddSingleton(sp => new PostgresCluster(
            sp.GetRequiredService<IOptions<PostgresClusterOptions>>().Value,
            sp.GetRequiredService<IGrainStateSerializer>(),
            sp.GetRequiredService<ILoggerFactory>(),
            sp.GetRequiredService<TimeProvider>()));
        services.Replace(ServiceDescriptor.Singleton<IMembershipTable>(sp => sp.GetRequiredService<PostgresCluster>().MembershipTable));
        services.Replace(ServiceDescriptor.Singleton<IGrainDirectory>(sp => sp.GetRequiredService<PostgresCluster>().GrainDirectory));
        services.AddKeyedSingleton<IGrainStorage>(GrainStorageNames.Default, (sp, _) => sp.GetRequiredService<PostgresCluster>().GrainStorage);
        return builder.AddClustering(configureCluster);
    }
}
