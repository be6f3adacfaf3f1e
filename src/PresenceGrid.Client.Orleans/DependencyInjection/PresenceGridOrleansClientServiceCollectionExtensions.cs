using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PresenceGrid.Client;
using PresenceGrid.Client.Orleans;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="OrleansPresenceGridClient"/> (the Orleans transport of <see cref="IPresenceGridClient"/>).</summary>
public static class PresenceGridOrleansClientServiceCollectionExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="OrleansPresenceGridClient"/>, also as <see cref="IPresenceGridClient"/> unless one is
    /// registered already, over the host's Orleans client (add it with <c>builder.UseOrleansClient(...)</c>: the grid's
    /// gateways, its cluster id and service id <c>presencegrid</c>, and <c>UseClusterSecret</c> when the grid has one).
    /// <see cref="TimeProvider.System"/> is registered unless a <see cref="TimeProvider"/> already is.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options, or null for the defaults.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddPresenceGridOrleansClient(this IServiceCollection services, Action<OrleansPresenceGridClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<OrleansPresenceGridClientOptions>()
            .Configure(o => configure?.Invoke(o))
            .Validate(o => o.Validate().Count == 0, "OrleansPresenceGridClientOptions are invalid; see OrleansPresenceGridClientOptions.Validate().")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(static sp => new OrleansPresenceGridClient(
            sp.GetRequiredService<IGrainFactory>(),
            sp.GetRequiredService<IOptions<OrleansPresenceGridClientOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ILogger<OrleansPresenceGridClient>>()));
        services.TryAddSingleton<IPresenceGridClient>(static sp => sp.GetRequiredService<OrleansPresenceGridClient>());
        return services;
    }
}
