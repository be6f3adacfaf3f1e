using Microsoft.Extensions.Configuration;
using Orleans.Configuration;
using Orleans.TestingHost;
using PresenceGrid.Postgres.Hosting;

namespace PresenceGrid.Postgres.Tests;

/// <summary>
/// Test-cluster configurators (TestCluster creates them by type, so the database arrives through
/// configuration): PostgreSQL clustering on silos and client, and failure detection fast enough
/// that a killed silo is declared dead within about a second (timings from
/// shared/reference/orleans-10.md).
/// </summary>
public static class ClusterConfigurators
{
    public const string ConnectionStringKey = "PresenceGridTests:PostgresConnectionString";

    /// <summary>Set to "false" to start silos and client with <c>ApplySchema</c> off.</summary>
    public const string ApplySchemaKey = "PresenceGridTests:ApplySchema";

    /// <summary>Bounds every grain call, so a call lost with a killed silo fails instead of waiting 30 s.</summary>
    public static readonly TimeSpan ResponseTimeout = TimeSpan.FromSeconds(5);

    public sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            string connectionString = RequiredConnectionString(siloBuilder.Configuration);
            bool applySchema = ApplySchema(siloBuilder.Configuration);
            siloBuilder.UsePostgresClustering(options =>
            {
                options.ConnectionString = connectionString;
                options.ApplySchema = applySchema;
            });
            siloBuilder.Configure<ClusterMembershipOptions>(options =>
            {
                options.ProbeTimeout = TimeSpan.FromSeconds(1);
                options.NumMissedProbesLimit = 2;
                options.DeathVoteExpirationTimeout = TimeSpan.FromSeconds(10);
                options.TableRefreshTimeout = TimeSpan.FromSeconds(5);
                options.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(10);
            });
            siloBuilder.Configure<SiloMessagingOptions>(options => options.ResponseTimeout = ResponseTimeout);
        }
    }

    /// <summary>The storage name the test grains' state uses.</summary>
    public const string StorageName = "pg";

    /// <summary><see cref="SiloConfigurator"/> plus PostgreSQL grain storage named <see cref="StorageName"/> on the same database.</summary>
    public sealed class StorageSiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            new SiloConfigurator().Configure(siloBuilder);
            string connectionString = RequiredConnectionString(siloBuilder.Configuration);
            siloBuilder.AddPostgresGrainStorage(StorageName, options => options.ConnectionString = connectionString);
        }
    }

    public sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder clientBuilder)
        {
            string connectionString = RequiredConnectionString(configuration);
            clientBuilder.UsePostgresClustering(options =>
            {
                options.ConnectionString = connectionString;
                options.ApplySchema = ApplySchema(configuration);
            });
            clientBuilder.Configure<GatewayOptions>(options => options.GatewayListRefreshPeriod = TimeSpan.FromSeconds(1));
            clientBuilder.Configure<ClientMessagingOptions>(options => options.ResponseTimeout = ResponseTimeout);
        }
    }

    private static bool ApplySchema(IConfiguration configuration) => configuration[ApplySchemaKey] != "false";

    private static string RequiredConnectionString(IConfiguration configuration) =>
        configuration[ConnectionStringKey] ?? throw new InvalidOperationException($"The test cluster has no {ConnectionStringKey}.");
}
