using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PresenceGrid.Client;
using PresenceGrid.Client.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="PresenceGridClient"/> (the HTTP transport of <see cref="IPresenceGridClient"/>) in a service collection.</summary>
public static class PresenceGridClientServiceCollectionExtensions
{
    /// <summary>The name of the <see cref="HttpClient"/> the client is built on (for <c>IHttpClientFactory</c> configuration).</summary>
    public const string HttpClientName = "PresenceGrid.Client";

    /// <summary>
    /// Registers a singleton <see cref="PresenceGridClient"/> (also as <see cref="IPresenceGridClient"/>), its <see cref="PresenceGridClientOptions"/> (validated when the
    /// host starts, each message naming the bad field), and a named <see cref="HttpClient"/> over a
    /// <see cref="SocketsHttpHandler"/> that recycles connections every 2 minutes. <see cref="TimeProvider.System"/> is
    /// registered unless a <see cref="TimeProvider"/> already is.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options; bind configuration with <c>services.AddOptions&lt;PresenceGridClientOptions&gt;().BindConfiguration(...)</c> as well if wanted.</param>
    /// <returns>The builder of the named HTTP client, to add message handlers or configure it further.</returns>
    public static IHttpClientBuilder AddPresenceGridClient(this IServiceCollection services, Action<PresenceGridClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);

        services.AddOptions<PresenceGridClientOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PresenceGridClientOptions>, PresenceGridClientOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(static sp =>
        {
            var options = sp.GetRequiredService<IOptions<PresenceGridClientOptions>>().Value;
            var httpClient = sp.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClientName);
            return new PresenceGridClient(
                httpClient,
                options,
                sp.GetRequiredService<TimeProvider>(),
                sp.GetService<ILogger<PresenceGridClient>>());
        });
        services.TryAddSingleton<IPresenceGridClient>(static sp => sp.GetRequiredService<PresenceGridClient>());

        return services
            .AddHttpClient(HttpClientName, static client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(static sp => PresenceGridClient.CreateHandler(sp.GetRequiredService<IOptions<PresenceGridClientOptions>>().Value));
    }
}
