using PresenceGrid.Silo;
using PresenceGrid.Silo.Configuration;

// The embedded default with no arguments: one silo, in-memory providers, loopback, presencegrid.yaml.
// Ctrl+C or SIGTERM stops it gracefully (every grain is deactivated first).
WebApplication app;
try
{
    app = SiloApp.Build(args);
}
catch (SiloConfigException exception)
{
    Console.Error.WriteLine($"Bad configuration: {exception.Message}");
    return 2;
}

try
{
    await app.RunAsync();
    return 0;
}
catch (Exception exception) when (exception is Microsoft.Extensions.Options.OptionsValidationException or PresenceGrid.Modules.ModuleLoadException or FormatException or IOException)
{
    Console.Error.WriteLine($"The silo could not start: {exception.Message}");
    return 2;
}
