using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Providers;
using Orleans.Runtime.Hosting;
using Orleans.Storage;
using PresenceGrid.Postgres.Options;
using PresenceGrid.Postgres.Persistence;

namespace PresenceGrid.Postgres.Hosting;

/// <summary>
/// Orleans grain storage on PostgreSQL with group commit, registered as Orleans' own storage
/// providers are: an <see cref="IGrainStorage"/> keyed by the storage's name, named options with a
/// validator, and the silo's default serializer unless one is set.
/// </summary>
public static class PostgresGrainStorageExtensions
{
    /// <summary>Adds a PostgreSQL grain storage named <paramref name="name"/> (the <c>storageName</c> of <c>[PersistentState]</c>).</summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="name">The storage's name.</param>
    /// <param name="configureOptions">Sets the connection string and, optionally, the group commit window and serializer.</param>
    /// <returns>The builder.</returns>
    public static ISiloBuilder AddPostgresGrainStorage(this ISiloBuilder builder, string name, Action<PostgresGrainStorageOptions> configureOptions)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(configureOptions);
        IServiceCollection services = builder.Services;
        services.AddOptions<PostgresGrainStorageOptions>(name).Configure(configureOptions);
        services.AddTransient<IPostConfigureOptions<PostgresGrainStorageOptions>, DefaultStorageProviderSerializerOptionsConfigurator<PostgresGrainStorageOptions>>();
        services.AddTransient<IConfigurationValidator>(sp => new PostgresGrainStorageOptionsValidator(
            sp.GetRequiredService<IOptionsMonitor<PostgresGrainStorageOptions>>().Get(name), name));
        services.AddGrainStorage(name, PostgresGrainStorage.Create);
        return builder;
    }

    /// <summary>Adds a PostgreSQL grain storage as the default one (for <c>[PersistentState]</c> without a storage name).</summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="configureOptions">Sets the connection string and, optionally, the group commit window and serializer.</param>
    /// <returns>The builder.</returns>
    public static ISiloBuilder AddPostgresGrainStorageAsDefault(this ISiloBuilder builder, Action<PostgresGrainStorageOptions> configureOptions) =>
        builder.AddPostgresGrainStorage(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME, configureOptions);
}
