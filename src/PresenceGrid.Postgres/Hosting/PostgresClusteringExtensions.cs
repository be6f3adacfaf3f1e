using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Messaging;
using Orleans.Runtime.Membership;
using PresenceGrid.Postgres.Clustering;
using PresenceGrid.Postgres.Options;

namespace PresenceGrid.Postgres.Hosting;

/// <summary>
/// Orleans clustering on PostgreSQL: Orleans' own membership protocol and ADO.NET provider
/// (<c>UseAdoNetClustering</c>, invariant <c>"Npgsql"</c>) over the schema PresenceGrid ships,
/// which every silo and client applies at start (or, with <see cref="PostgresClusteringOptions.ApplySchema"/>
/// off, checks at start after <c>pgrid db migrate</c> applied it).
/// </summary>
public static class PostgresClusteringExtensions
{
    /// <summary>The ADO.NET invariant name Orleans knows PostgreSQL by.</summary>
    /// <remarks>
    /// Orleans finds the provider factory for it by loading the <c>Npgsql</c> assembly and its
    /// <c>NpgsqlFactory.Instance</c>, not through <c>DbProviderFactories</c>, so nothing needs registering:
    /// this assembly references Npgsql, which puts it next to the application.
    /// </remarks>
    public const string Invariant = "Npgsql";

    /// <summary>Makes this silo keep Orleans' membership in PostgreSQL, applying PresenceGrid's schema first (or checking it, with <see cref="PostgresClusteringOptions.ApplySchema"/> off).</summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="configureOptions">Sets the connection string or data source.</param>
    /// <returns>The builder.</returns>
    public static ISiloBuilder UsePostgresClustering(this ISiloBuilder builder, Action<PostgresClusteringOptions> configureOptions)
    {
        ArgumentNullException.ThrowIfNull(builder);
        AddCommonServices(builder.Services, configureOptions);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ILifecycleParticipant<ISiloLifecycle>, PostgresSchemaLifecycleParticipant>());
        return builder.UseAdoNetClustering((OptionsBuilder<AdoNetClusteringSiloOptions> adoNet) =>
            adoNet.Configure<IOptions<PostgresClusteringOptions>>((target, source) =>
            {
                target.Invariant = Invariant;
                target.ConnectionString = source.Value.ConnectionString;
                target.DataSource = source.Value.DataSource;
            }));
    }

    /// <summary>Makes this client find the cluster's gateways in PostgreSQL, applying PresenceGrid's schema first (or checking it, with <see cref="PostgresClusteringOptions.ApplySchema"/> off).</summary>
    /// <param name="builder">The client builder.</param>
    /// <param name="configureOptions">Sets the connection string or data source.</param>
    /// <returns>The builder.</returns>
    public static IClientBuilder UsePostgresClustering(this IClientBuilder builder, Action<PostgresClusteringOptions> configureOptions)
    {
        ArgumentNullException.ThrowIfNull(builder);
        AddCommonServices(builder.Services, configureOptions);
        builder.UseAdoNetClustering((OptionsBuilder<AdoNetClusteringClientOptions> adoNet) =>
            adoNet.Configure<IOptions<PostgresClusteringOptions>>((target, source) =>
            {
                target.Invariant = Invariant;
                target.ConnectionString = source.Value.ConnectionString;
                target.DataSource = source.Value.DataSource;
            }));

        // UseAdoNetClustering registered AdoNetGatewayListProvider as the gateway list provider: wrap it.
        ServiceDescriptor adoNetProvider = builder.Services.Last(
            d => d.ServiceType == typeof(IGatewayListProvider) && d.ImplementationType == typeof(AdoNetGatewayListProvider));
        builder.Services.Remove(adoNetProvider);
        builder.Services.AddSingleton<IGatewayListProvider>(services => new PostgresGatewayListProvider(
            ActivatorUtilities.CreateInstance<AdoNetGatewayListProvider>(services),
            services.GetRequiredService<PostgresSchemaApplier>()));
        return builder;
    }

    private static void AddCommonServices(IServiceCollection services, Action<PostgresClusteringOptions> configureOptions)
    {
        ArgumentNullException.ThrowIfNull(configureOptions);
        services.Configure(configureOptions);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigurationValidator, PostgresClusteringOptionsValidator>());
        services.TryAddSingleton<PostgresSchemaApplier>();
    }
}
