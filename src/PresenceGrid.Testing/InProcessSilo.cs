using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PresenceGrid.Runtime.Hosting;

namespace PresenceGrid.Testing;

/// <summary>
/// One silo in this process, on a generic host, for tests: its grain factory, its services and its
/// clock. Start it with <see cref="StartAsync"/>; dispose it to stop it gracefully.
/// </summary>
public sealed class InProcessSilo : IAsyncDisposable
{
    private readonly IHost _host;

    private InProcessSilo(IHost host, TimeProvider timeProvider)
    {
        _host = host;
        TimeProvider = timeProvider;
    }

    /// <summary>The silo's services.</summary>
    public IServiceProvider Services => _host.Services;

    /// <summary>The grain factory of the silo (a co-hosted client).</summary>
    public IGrainFactory GrainFactory => _host.Services.GetRequiredService<IGrainFactory>();

    /// <summary>The silo.</summary>
    public Silo Silo => _host.Services.GetRequiredService<Silo>();

    /// <summary>The silo's clock.</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>Builds and starts a silo.</summary>
    /// <param name="configureSilo">Configures the silo (storage, options, grain assemblies).</param>
    /// <param name="timeProvider">The clock; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="configureServices">Adds or replaces services.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running silo.</returns>
    public static async Task<InProcessSilo> StartAsync(
        Action<ISiloBuilder>? configureSilo = null,
        TimeProvider? timeProvider = null,
        Action<IServiceCollection>? configureServices = null,
        CancellationToken cancellationToken = default)
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Testing" });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        TimeProvider clock = timeProvider ?? TimeProvider.System;
        builder.Services.AddSingleton(clock);
        builder.UsePresenceGridSilo(configureSilo);
        configureServices?.Invoke(builder.Services);
        IHost host = await BuildAndStartAsync(builder, cancellationToken).ConfigureAwait(false);

        return new InProcessSilo(host, clock);
    }

    /// <summary>Builds the host and starts it; a host that fails to start is disposed.</summary>
    internal static async Task<IHost> BuildAndStartAsync(HostApplicationBuilder builder, CancellationToken cancellationToken)
    {
        IHost host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return host;
    }

    /// <summary>Stops the silo gracefully (deactivating every grain) and releases it.</summary>
    /// <returns>A task.</returns>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await _host.StopAsync().ConfigureAwait(false);
        }
        finally
        {
            _host.Dispose();
        }
    }
}
