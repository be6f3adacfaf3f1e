using System.Net;
using System.Net.Sockets;
using Orleans.Configuration;
using Orleans.Providers;
using Orleans.Storage;
using Orleans.Runtime.MembershipService.SiloMetadata;
using PresenceGrid.Cluster;
using PresenceGrid.Persistence;
using PresenceGrid.Postgres.Hosting;
using PresenceGrid.Postgres.Persistence;
using PresenceGrid.Silo.Configuration;

namespace PresenceGrid.Silo;

/// <summary>
/// The Orleans side of the silo, from the configuration file: with <c>cluster.postgres</c> a member of a cluster
/// (membership and grain state in PostgreSQL, silo-to-silo and gateway endpoints from the <c>cluster</c> section);
/// without it the embedded default, one silo with localhost clustering and in-memory grain state.
/// </summary>
internal static class SiloCluster
{
    /// <summary>The service id every PresenceGrid silo shares (grain state is keyed by it).</summary>
    public const string ServiceId = "presencegrid";

    /// <summary>The silo metadata key under which a silo publishes its HTTP endpoint (for owner routing).</summary>
    public const string HttpEndpointKey = Frontend.ClusterView.HttpEndpointKey;

    public static void Configure(ISiloBuilder silo, SiloConfigFile config, string httpEndpoint)
    {
        silo.Configure<SiloOptions>(o => o.SiloName = config.SiloName);
        if (config.Cluster is { } cluster)
        {
            // Each silo tells the others (and, through /v1/cluster/placement, the SDK) where its HTTP API listens.
            silo.UseSiloMetadata(new Dictionary<string, string> { [HttpEndpointKey] = httpEndpoint });
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = cluster.ClusterId!;
                o.ServiceId = ServiceId;
            });
            silo.UsePostgresClustering(o => o.ConnectionString = cluster.Postgres!);
            silo.AddPostgresGrainStorageAsDefault(o =>
            {
                o.ConnectionString = cluster.Postgres!;
                o.GroupCommit = TimeSpan.FromMilliseconds(cluster.GroupCommitMs);
            });
            silo.Services.AddSingleton<IGrainStateScan>(sp => new PostgresStateScan(sp));
            silo.UseClusterSecret(cluster.Secret!);
            silo.UseLeaseTime(TimeSpan.FromMilliseconds(cluster.LeaseMs));
            if (cluster.TlsCertificate is { } certificate)
            {
                try
                {
                    // The certificate is loaded here: a bad file or password is a configuration error, not a failure at start.
                    silo.UseClusterTls(new ClusterTlsOptions { CertificatePath = certificate, CertificatePassword = cluster.TlsCertificatePassword });
                }
                catch (ArgumentException exception)
                {
                    throw new SiloConfigException(config.Path, "cluster.tls_certificate", exception.Message);
                }
            }

            IPAddress address = cluster.SiloHost == "localhost" ? IPAddress.Loopback : IPAddress.Parse(cluster.SiloHost);
            silo.ConfigureEndpoints(address, PortOrFree(cluster.SiloPort), PortOrFree(cluster.GatewayPort), listenOnAnyHostAddress: false);
        }
        else
        {
            // The embedded default: one silo, nothing to install. Its ports are picked free, so that several
            // embedded silos (and tests) run side by side on one machine.
            silo.UseLocalhostClustering(PortOrFree(0), PortOrFree(0), serviceId: ServiceId, clusterId: "embedded");
            silo.AddMemoryGrainStorageAsDefault();
            // Orleans' binary serializer instead of the memory storage's default JSON (Newtonsoft): the records are
            // [GenerateSerializer] types and never leave the process, and each write costs 2.5-3.3 KB and 4-13 µs of
            // CPU less (docs/benchmarks.md, "embedded storage").
            silo.Services.AddOptions<MemoryGrainStorageOptions>(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME)
                .Configure<Orleans.Serialization.Serializer>((o, serializer) => o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer));
        }

        silo.AddPresenceGrid(config.ConfigurePresence);
    }

    /// <summary>The port, or a free one for 0.</summary>
    private static int PortOrFree(int port)
    {
        if (port != 0)
        {
            return port;
        }

        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>Lists stored states through the PostgreSQL grain storage (the rebuild of a starting silo's view).</summary>
    private sealed class PostgresStateScan(IServiceProvider services) : IGrainStateScan
    {
        public Task<IReadOnlyList<KeyValuePair<string, T>>> ReadAllAsync<T>(string stateName, GrainType grainType, CancellationToken cancellationToken) =>
            ((PostgresGrainStorage)services.GetRequiredKeyedService<Orleans.Storage.IGrainStorage>("Default"))
                .ReadAllAsync<T>(stateName, grainType, cancellationToken);
    }
}
