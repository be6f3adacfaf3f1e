using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PresenceGrid.Fanout;
using PresenceGrid.Grains;
using PresenceGrid.Hosting;
using PresenceGrid.Matrix;
using PresenceGrid.Modules;
using PresenceGrid.Presence;
using PresenceGrid.Routing;
using PresenceGrid.Persistence;
using PresenceGrid.Placement;
using PresenceGrid.Replication;
using PresenceGrid.Sync;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the presence grid (grains and silo services) to an Orleans silo.</summary>
public static class PresenceServiceCollectionExtensions
{
    /// <summary>
    /// Adds presence to an Orleans silo: the grains' services (user table, room index, fan-out, inboxes, sync),
    /// replication between silos (a grain service), the start-up stale flush, the takeover of a dead silo's users' timers,
    /// and <see cref="PresenceService"/>.
    /// The silo also needs a <c>Default</c> grain storage; a storage that can list its records registers an
    /// <see cref="IGrainStateScan"/> so that a starting silo rebuilds its presence view from it.
    /// </summary>
    /// <param name="silo">The silo.</param>
    /// <param name="configure">Sets <see cref="PresenceOptions"/>; at least one server name.</param>
    /// <returns>The silo.</returns>
    public static ISiloBuilder AddPresenceGrid(this ISiloBuilder silo, Action<PresenceOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(silo);
        IServiceCollection services = silo.Services;
        services.AddOptions<PresenceOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PresenceOptions>, PresenceOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<UserTable>();
        services.TryAddSingleton<RoomMembershipIndex>();
        services.TryAddSingleton(sp => new PresenceMetrics(sp.GetService<IMeterFactory>()));
        services.TryAddSingleton<IPresenceRouting, NoPresenceRouting>();
        services.TryAddSingleton<PresenceFanout>();
        services.TryAddSingleton<PresenceSyncService>();
        services.TryAddSingleton<PresenceWakeups>();
        services.TryAddSingleton<UserPresenceServices>();
        services.TryAddSingleton(sp => new MirrorIngest(
            sp.GetRequiredService<UserTable>(),
            sp.GetRequiredService<PresenceFanout>(),
            sp.GetRequiredService<UserOwners>(),
            sp.GetRequiredService<PresenceReplicaClient>(),
            sp.GetRequiredService<IGrainFactory>(),
            sp.GetRequiredService<Orleans.Storage.IGrainStorage>(),
            sp.GetRequiredService<PresenceMetrics>(),
            sp.GetRequiredService<IOptions<PresenceOptions>>(),
            sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(sp => new PresenceService(
            sp.GetRequiredService<IGrainFactory>(),
            sp.GetRequiredService<PresenceSyncService>(),
            sp.GetRequiredService<RoomMembershipIndex>(),
            sp.GetRequiredService<PresenceFanout>(),
            sp.GetRequiredService<IPresenceRouting>(),
            sp.GetRequiredService<PresenceWakeups>(),
            sp.GetRequiredService<UserOwners>(),
            sp.GetRequiredService<PresenceMetrics>(),
            sp.GetRequiredService<MirrorIngest>(),
            sp.GetRequiredService<IOptions<PresenceOptions>>()));
        services.TryAddSingleton<UserOwners>();
        services.TryAddSingleton<PresenceGrid.Frontend.ClusterView>();
        services.TryAddSingleton<PresenceReplicaClient>();
        services.TryAddSingleton<PresenceReplication>();
        services.AddGrainService<PresenceReplicaService>();
        services.AddPlacementDirector<UserOwnerPlacement, UserOwnerPlacementDirector>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, StalePresenceFlush>();
        services.TryAddSingleton<DeadSiloTakeover>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<DeadSiloTakeover>());
        return silo;
    }

    /// <summary>
    /// Loads presence routing modules from Synapse-shaped configuration: the <c>modules:</c> list
    /// (new style) and <c>presence:presence_router</c> (legacy style, run last), with
    /// <c>presence:router:module_callback_timeout</c> (see <see cref="RouterOptions"/>). Modules are
    /// constructed when the host starts; a bad module stops start-up with <see cref="ModuleLoadException"/>.
    /// </summary>
    /// <param name="services">The silo's services.</param>
    /// <param name="configuration">The configuration root.</param>
    /// <param name="configureRouter">Optionally sets <see cref="RouterOptions"/>.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddPresenceModules(this IServiceCollection services, IConfiguration configuration, Action<RouterOptions>? configureRouter = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        (IReadOnlyList<ModuleConfiguration> modules, ModuleConfiguration? legacy) = ModuleLoader.ReadConfiguration(configuration);
        OptionsBuilder<RouterOptions> router = services.AddOptions<RouterOptions>();
        if (configuration.GetSection(RouterOptions.SectionName).Exists())
        {
            TimeSpan? timeout = ReadTimeout(configuration.GetSection(RouterOptions.SectionName)["module_callback_timeout"]);
            if (timeout is { } value)
            {
                router.Configure(o => o.ModuleCallbackTimeout = value);
            }
        }

        if (configureRouter is not null)
        {
            router.Configure(configureRouter);
        }

        router.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RouterOptions>, RouterOptionsValidator>());
        services.AddSingleton(sp =>
        {
            var pipeline = new PresenceRouterPipeline(
                sp.GetRequiredService<IOptions<RouterOptions>>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetService<ILogger<PresenceRouterPipeline>>() ?? Logging.Abstractions.NullLogger<PresenceRouterPipeline>.Instance,
                new RoutingInstruments(sp.GetService<IMeterFactory>()));
            PresenceOptions options = sp.GetRequiredService<IOptions<PresenceOptions>>().Value;
            var host = new ModuleHost(
                new PresenceModuleOperations(sp),
                options.ServerNames.Select(n => ServerName.Parse(n)),
                sp.GetService<ILoggerFactory>() ?? Logging.Abstractions.NullLoggerFactory.Instance,
                sp.GetRequiredService<TimeProvider>());
            IReadOnlyList<LoadedModule> loaded = new ModuleLoader(pipeline, host).Load(modules, legacy);
            return new LoadedModules(pipeline, loaded, host);
        });
        services.AddSingleton<IPresenceRouting>(sp => new PipelinePresenceRouting(sp.GetRequiredService<LoadedModules>().Pipeline));
        services.AddHostedService<ModuleStartup>();
        return services;
    }

    /// <summary>
    /// Constructs the modules <see cref="AddPresenceModules"/> registered now rather than when the host starts, so that a
    /// bad module stops start-up before anything listens (and can be reported as a configuration error).
    /// </summary>
    /// <param name="services">The built service provider.</param>
    /// <exception cref="ModuleLoadException">A module could not be loaded.</exception>
    public static void LoadPresenceModules(this IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        _ = services.GetService<IPresenceRouting>();
    }

    private static TimeSpan? ReadTimeout(string? value)
    {
        try
        {
            return value is null ? null : PresenceTimings.ParseDuration(value);
        }
        catch (FormatException exception)
        {
            throw new FormatException($"presence.router.module_callback_timeout: {exception.Message} Use a Synapse duration such as 500 (ms), 2s or 1m.", exception);
        }
    }

    /// <summary>The pipeline and the modules loaded into it (disposed with the host).</summary>
    internal sealed class LoadedModules(PresenceRouterPipeline pipeline, IReadOnlyList<LoadedModule> modules, ModuleHost host) : IAsyncDisposable
    {
        public PresenceRouterPipeline Pipeline { get; } = pipeline;

        public IReadOnlyList<LoadedModule> Modules { get; } = modules;

        public async ValueTask DisposeAsync()
        {
            // The modules' timers stop (and their HTTP client goes) before the modules themselves are disposed.
            host.Dispose();
            foreach (LoadedModule module in Modules)
            {
                switch (module.Instance)
                {
                    case IAsyncDisposable asyncDisposable:
                        await asyncDisposable.DisposeAsync().ConfigureAwait(false);
                        break;
                    case IDisposable disposable:
                        disposable.Dispose();
                        break;
                }
            }

            Pipeline.Dispose();
        }
    }

    /// <summary>Constructs the modules when the host starts, so a bad module stops start-up.</summary>
    private sealed class ModuleStartup(IServiceProvider services) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            _ = services.GetRequiredService<IPresenceRouting>();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private sealed class PresenceOptionsValidator : IValidateOptions<PresenceOptions>
    {
        public ValidateOptionsResult Validate(string? name, PresenceOptions options)
        {
            var failures = new List<string>();
            if (options.ServerNames.Count == 0)
            {
                failures.Add("server_name: at least one local server name is required.");
            }

            foreach (string server in options.ServerNames)
            {
                if (!ServerName.TryParse(server, out _))
                {
                    failures.Add($"server_name: '{server}' is not a valid server name.");
                }
            }

            foreach (string room in options.ExcludeRoomsFromPresence)
            {
                if (!RoomId.TryParse(room, out _))
                {
                    failures.Add($"exclude_rooms_from_presence: '{room}' is not a valid room id.");
                }
            }

            try
            {
                options.Timings.Validate();
            }
            catch (InvalidOperationException exception)
            {
                failures.Add(exception.Message);
            }

            if (options.MaxSyncTimeout < TimeSpan.Zero)
            {
                failures.Add("presence.max_sync_timeout must not be negative.");
            }

            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}
