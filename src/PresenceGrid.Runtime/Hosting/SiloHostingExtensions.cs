using System.Reflection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PresenceGrid;
using PresenceGrid.Persistence;
using PresenceGrid.Runtime.Catalog;
using PresenceGrid.Runtime.Configuration;
using PresenceGrid.Runtime.Diagnostics;
using PresenceGrid.Runtime.GrainDirectory;
using PresenceGrid.Runtime.Hosting;
using PresenceGrid.Runtime.Membership;
using PresenceGrid.Runtime.Networking;
using PresenceGrid.Runtime.Persistence;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Configures a PresenceGrid silo.</summary>
public interface ISiloBuilder
{
    /// <summary>The host's services.</summary>
    IServiceCollection Services { get; }
}

/// <summary>Adds a PresenceGrid silo to a host, Orleans-style.</summary>
public static class SiloHostingExtensions
{
    /// <summary>Adds a silo to the host: <c>builder.UsePresenceGridSilo(silo => silo.AddMemoryGrainStorage())</c>.</summary>
    /// <param name="builder">The host builder.</param>
    /// <param name="configure">Configures the silo.</param>
    /// <returns>The host builder.</returns>
    public static IHostApplicationBuilder UsePresenceGridSilo(this IHostApplicationBuilder builder, Action<ISiloBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddPresenceGridSilo(configure);
        return builder;
    }

    /// <summary>Adds a silo's services. Its options are validated when the host starts.</summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Configures the silo.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddPresenceGridSilo(this IServiceCollection services, Action<ISiloBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = new SiloBuilder(services);
        if (!services.Any(d => d.ServiceType == typeof(SiloMarker)))
        {
            services.AddSingleton<SiloMarker>();
            services.TryAddSingleton(TimeProvider.System);
            services.AddOptions<SiloOptions>().ValidateOnStart();
            services.AddOptions<GrainCollectionOptions>().ValidateOnStart();
            services.AddOptions<SiloMessagingOptions>().ValidateOnStart();
            services.AddOptions<GrainStateSerializerOptions>();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SiloOptions>, SiloOptionsValidator>());
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GrainCollectionOptions>, GrainCollectionOptionsValidator>());
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SiloMessagingOptions>, SiloMessagingOptionsValidator>());
            services.TryAddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
            services.TryAddSingleton<IGrainStateSerializer, JsonGrainStateSerializer>();
            services.TryAddSingleton<IGrainDirectory, SingleSiloGrainDirectory>();
            services.TryAddSingleton<ILocalSiloDetails>(sp => new LocalSiloDetails(sp.GetRequiredService<IOptions<SiloOptions>>().Value.SiloName, sp.GetRequiredService<TimeProvider>()));
            services.TryAddSingleton(sp => new RuntimeInstruments(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
            services.TryAddSingleton<GrainAssemblies>();
            services.TryAddSingleton(sp => new SiloRuntime(
                sp,
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILocalSiloDetails>(),
                sp.GetRequiredService<IGrainDirectory>(),
                sp.GetRequiredService<IOptions<GrainCollectionOptions>>(),
                sp.GetRequiredService<IOptions<SiloMessagingOptions>>(),
                sp.GetRequiredService<ILoggerFactory>(),
                sp.GetRequiredService<RuntimeInstruments>()));
            services.TryAddSingleton(sp => new Silo(sp.GetRequiredService<SiloRuntime>(), sp.GetRequiredService<GrainAssemblies>(), sp.GetService<ClusterServices>()));
            services.AddHostedService(sp => sp.GetRequiredService<Silo>());
            services.TryAddSingleton<IGrainFactory>(sp => sp.GetRequiredService<SiloRuntime>().GrainFactory);
        }

        configure?.Invoke(builder);
        return services;
    }

    /// <summary>Registers in-memory grain storage under <paramref name="name"/>.</summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="name">The provider's name; <c>Default</c> serves states that name none.</param>
    /// <returns>The silo builder.</returns>
    public static ISiloBuilder AddMemoryGrainStorage(this ISiloBuilder builder, string name = GrainStorageNames.Default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        builder.Services.AddKeyedSingleton<IGrainStorage>(name, (sp, _) => new MemoryGrainStorage(name, sp.GetRequiredService<IGrainStateSerializer>()));
        return builder;
    }

    /// <summary>
    /// Makes the silo a member of a cluster: it joins the registered <see cref="IMembershipTable"/>,
    /// talks to its peers over the registered transport, places grains by rendezvous hashing over
    /// the active silos and forwards calls to them. Register the membership table, grain directory,
    /// storage and transport too (<see cref="UseInMemoryClustering"/> does all for tests).
    /// </summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="configure">Sets lease and forwarding options.</param>
    /// <returns>The silo builder.</returns>
    public static ISiloBuilder AddClustering(this ISiloBuilder builder, Action<ClusterOptions>? configure = null)
    {
        IServiceCollection services = builder.Services;
        services.AddOptions<ClusterOptions>();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.Replace(ServiceDescriptor.Singleton<ILocalSiloDetails>(sp => new ClusterSiloDetails(sp.GetRequiredService<IOptions<SiloOptions>>().Value.SiloName)));
        services.TryAddSingleton(sp => new ClusterServices(
            sp.GetRequiredService<SiloRuntime>(),
            (ClusterSiloDetails)sp.GetRequiredService<ILocalSiloDetails>(),
            sp.GetRequiredService<IMembershipTable>(),
            sp.GetRequiredService<ISiloTransport>(),
            sp.GetRequiredService<IOptions<ClusterOptions>>().Value,
            CallJsonOptions(sp)));
        services.TryAddSingleton<IClusterMessaging>(sp => new ClusterMessaging(sp.GetRequiredService<ClusterServices>()));
        return builder;
    }

    /// <summary>
    /// Joins an in-process cluster: membership, directory, default storage and transport all come
    /// from <paramref name="fabric"/>, which the silos share.
    /// </summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="fabric">The shared fabric.</param>
    /// <param name="configure">Sets lease and forwarding options.</param>
    /// <returns>The silo builder.</returns>
    public static ISiloBuilder UseInMemoryClustering(this ISiloBuilder builder, InMemoryClusterFabric fabric, Action<ClusterOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(fabric);
        IServiceCollection services = builder.Services;
        services.Replace(ServiceDescriptor.Singleton<IGrainDirectory>(fabric.Directory));
        services.Replace(ServiceDescriptor.Singleton<IMembershipTable>(fabric.Membership));
        services.Replace(ServiceDescriptor.Singleton<ISiloTransport>(_ => new InMemorySiloTransport(fabric.Transport)));
        services.AddKeyedSingleton<IGrainStorage>(GrainStorageNames.Default, (sp, _) => fabric.Storage(GrainStorageNames.Default, sp.GetRequiredService<IGrainStateSerializer>()));
        return builder.AddClustering(configure);
    }

    /// <summary>
    /// Connects this silo to its peers over TCP: a Kestrel listener on the silo port, connections
    /// authenticated with the cluster secret, batched length-prefixed frames.
    /// </summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="configure">Sets cluster id, secret, host and port.</param>
    /// <returns>The silo builder.</returns>
    public static ISiloBuilder UseSiloTransport(this ISiloBuilder builder, Action<SiloTransportOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<SiloTransportOptions>().Configure(configure).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SiloTransportOptions>, SiloTransportOptionsValidator>());
        builder.Services.Replace(ServiceDescriptor.Singleton<ISiloTransport>(sp => new KestrelSiloTransport(
            sp.GetRequiredService<IOptions<SiloTransportOptions>>().Value,
            sp.GetRequiredService<ILoggerFactory>(),
            sp.GetRequiredService<RuntimeInstruments>())));
        return builder;
    }

    private static System.Text.Json.JsonSerializerOptions CallJsonOptions(IServiceProvider services)
    {
        System.Text.Json.JsonSerializerOptions options = services.GetRequiredService<IOptions<PresenceGrid.Invocation.GrainCallSerializerOptions>>().Value.JsonOptions;
        if (!options.IsReadOnly && !options.TypeInfoResolverChain.OfType<System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver>().Any())
        {
            options.TypeInfoResolverChain.Add(new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver());
        }

        options.MakeReadOnly();
        return options;
    }

    /// <summary>Makes sure the grains of <paramref name="assembly"/> are registered when the silo starts.</summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="assembly">An assembly built with the PresenceGrid source generator.</param>
    /// <returns>The silo builder.</returns>
    public static ISiloBuilder AddGrainAssembly(this ISiloBuilder builder, Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        builder.Services.AddSingleton(new GrainAssemblyRegistration(assembly));
        builder.Services.AddSingleton<GrainAssemblies>(sp =>
        {
            var assemblies = new GrainAssemblies();
            foreach (GrainAssemblyRegistration registration in sp.GetServices<GrainAssemblyRegistration>())
            {
                assemblies.Add(registration.Assembly);
            }

            return assemblies;
        });
        return builder;
    }

    /// <summary>Configures silo options (<see cref="SiloOptions"/>, <see cref="GrainCollectionOptions"/>, <see cref="SiloMessagingOptions"/>...).</summary>
    /// <typeparam name="TOptions">The options type.</typeparam>
    /// <param name="builder">The silo builder.</param>
    /// <param name="configure">Sets options.</param>
    /// <returns>The silo builder.</returns>
    public static ISiloBuilder Configure<TOptions>(this ISiloBuilder builder, Action<TOptions> configure)
        where TOptions : class
    {
        builder.Services.Configure(configure);
        return builder;
    }

    private sealed class SiloBuilder(IServiceCollection services) : ISiloBuilder
    {
        public IServiceCollection Services { get; } = services;
    }

    private sealed class SiloMarker;

    private sealed record GrainAssemblyRegistration(Assembly Assembly);
}
