using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PresenceGrid.Runtime.Configuration;

// The embedded default: one silo, in-memory providers, nothing else to install.
// Ctrl+C or SIGTERM stops it gracefully (every grain is deactivated first).
HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
builder.Logging.AddSimpleConsole(o =>
{
    o.SingleLine = true;
    o.TimestampFormat = "HH:mm:ss ";
});
builder.UsePresenceGridSilo(silo => silo
    .AddMemoryGrainStorage()
    .Configure<SiloOptions>(o => o.SiloName = builder.Configuration["silo_name"] ?? "embedded"));

using IHost host = builder.Build();
await host.StartAsync().ConfigureAwait(false);
host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("PresenceGrid.Silo").LogSiloUp();
await host.WaitForShutdownAsync().ConfigureAwait(false);

/// <summary>The silo executable's log messages.</summary>
internal static partial class SiloProgramLog
{
    [LoggerMessage(EventId = 100, EventName = "SiloUp", Level = LogLevel.Information,
        Message = "PresenceGrid silo is up (embedded default: one silo, in-memory storage). Press Ctrl+C to stop.")]
    public static partial void LogSiloUp(this ILogger logger);
}
