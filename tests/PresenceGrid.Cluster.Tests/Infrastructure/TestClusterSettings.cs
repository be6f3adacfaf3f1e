using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Runtime.Messaging;
using Orleans.TestingHost;

namespace PresenceGrid.Cluster.Tests.Infrastructure;

/// <summary>
/// How the next silo or client of an in-process test cluster is configured. The cluster's
/// configure delegates read these when a silo or the client starts, so a test changes them
/// between starts (a client with another secret, a silo behind a partition).
/// </summary>
public sealed class TestClusterSettings
{
    public const string Secret = "the cluster secret of the tests";

    /// <summary>Bounds each grain call, so a call to an unreachable silo fails instead of waiting 30 s.</summary>
    public static readonly TimeSpan ResponseTimeout = TimeSpan.FromSeconds(2);

    public LogCollector Logs { get; } = new();

    public string? SiloSecret { get; set; } = Secret;

    public string? ClientSecret { get; set; } = Secret;

    public ClusterTlsOptions? SiloTls { get; set; }

    public ClusterTlsOptions? ClientTls { get; set; }

    public TimeSpan? Lease { get; set; }

    /// <summary>False: the client gives up at its first failed connection (for clients without PresenceGrid.Cluster, which retry for minutes).</summary>
    public bool ClientRetries { get; set; } = true;

    public NetworkPartition? Partition { get; set; }

    /// <summary>More configuration for the next silo.</summary>
    public Action<ISiloBuilder>? ConfigureSilo { get; set; }

    public InProcessTestCluster Build(short initialSilos)
    {
        var builder = new InProcessTestClusterBuilder(initialSilos);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((options, silo) =>
        {
            AddLogs(silo.Services);
            silo.Configure<SiloMessagingOptions>(options => options.ResponseTimeout = ResponseTimeout);
            // A silo that cannot validate connectivity gives up joining after this long.
            silo.Configure<ClusterMembershipOptions>(options => options.MaxJoinAttemptTime = TimeSpan.FromSeconds(5));
            if (SiloSecret is { } secret)
            {
                silo.UseClusterSecret(secret);
            }

            if (SiloTls is { } tls)
            {
                silo.UseClusterTls(tls);
            }

            if (Lease is { } lease)
            {
                silo.UseLeaseTime(lease);
            }

            Partition?.Apply(silo, options.SiloName);
            ConfigureSilo?.Invoke(silo);
        });
        builder.ConfigureClient(client =>
        {
            AddLogs(client.Services);
            client.Configure<ClientMessagingOptions>(options => options.ResponseTimeout = ResponseTimeout);
            // Without retries the client gives up at its first failed connection. With them, it
            // also waits out the moment (seen under load) when the first silo's gateway is not
            // listed yet: Orleans' default filter does not retry SiloUnavailableException.
            int attempts = 0;
            client.UseConnectionRetryFilter(async (error, cancellation) =>
            {
                if (!ClientRetries || ++attempts > 20 || error is not (SiloUnavailableException or ConnectionFailedException))
                {
                    return false;
                }

                await Task.Delay(50, cancellation);
                return true;
            });

            if (ClientSecret is { } secret)
            {
                client.UseClusterSecret(secret);
            }

            if (ClientTls is { } tls)
            {
                client.UseClusterTls(tls);
            }

            if (Lease is { } lease)
            {
                client.UseLeaseTime(lease);
            }
        });
        return builder.Build();
    }

    private void AddLogs(IServiceCollection services)
    {
        services.AddSingleton<ILoggerProvider>(Logs);
        services.AddLogging(logging => logging.AddFilter("PresenceGrid.Cluster", LogLevel.Debug));
    }
}
