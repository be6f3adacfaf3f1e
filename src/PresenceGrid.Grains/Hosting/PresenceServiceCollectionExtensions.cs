using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PresenceGrid.Fanout;
using PresenceGrid.Hosting;
using PresenceGrid.Matrix;
using PresenceGrid.Routing;
using PresenceGrid.Sync;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the presence grid (grains and silo services) to a silo's services.</summary>
public static class PresenceServiceCollectionExtensions
{
    /// <summary>
    /// Adds presence: the grains' services, fan-out, inboxes, sync, and <see cref="PresenceService"/>.
    /// The silo must also know the grains' assembly (<c>silo.AddGrainAssembly(PresenceGrains.Assembly)</c>)
    /// and a <c>Default</c> grain storage.
    /// </summary>
    /// <param name="services">The silo's services.</param>
    /// <param name="configure">Sets <see cref="PresenceOptions"/>; at least one server name.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddPresenceGrid(this IServiceCollection services, Action<PresenceOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<PresenceOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PresenceOptions>, PresenceOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<UserTable>();
        services.TryAddSingleton<RoomMembershipIndex>();
        services.TryAddSingleton(sp => new PresenceMetrics(sp.GetService<IMeterFactory>()));
        services.TryAddSingleton<IPresenceRouting, NoPresenceRouting>();
        services.TryAddSingleton(sp => new PresenceFanout(
            sp.GetRequiredService<UserTable>(),
            sp.GetRequiredService<RoomMembershipIndex>(),
            sp.GetRequiredService<PresenceGrid.IGrainFactory>(),
            sp.GetRequiredService<IPresenceRouting>(),
            sp.GetRequiredService<IOptions<PresenceOptions>>(),
            sp.GetService<ILogger<PresenceFanout>>() ?? Logging.Abstractions.NullLogger<PresenceFanout>.Instance,
            sp.GetRequiredService<PresenceMetrics>()));
        services.TryAddSingleton<PresenceSyncService>();
        services.TryAddSingleton(sp => new PresenceService(
            sp.GetRequiredService<PresenceGrid.IGrainFactory>(),
            sp.GetRequiredService<PresenceSyncService>(),
            sp.GetRequiredService<RoomMembershipIndex>(),
            sp.GetRequiredService<PresenceFanout>(),
            sp.GetRequiredService<IPresenceRouting>(),
            sp.GetRequiredService<IOptions<PresenceOptions>>()));
        return services;
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

            if (options.ModuleCallbackTimeout <= TimeSpan.Zero)
            {
                failures.Add("presence.module_callback_timeout must be positive.");
            }

            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}
