using PresenceGrid.Silo;

// The embedded default with no arguments: one silo, in-memory providers, loopback, presencegrid.yaml.
// Ctrl+C or SIGTERM stops it gracefully (every grain is deactivated first).
WebApplication? app = SiloApp.BuildOrReport(args, Console.Error);
if (app is null)
{
    return SiloApp.BadConfigurationExitCode;
}

try
{
    await app.RunAsync();
    return 0;
}
catch (Exception exception) when (exception is IOException or Microsoft.Extensions.Options.OptionsValidationException or PresenceGrid.Modules.ModuleLoadException or FormatException)
{
    // The configuration is checked while building; what is left is mostly the machine (an address already in use).
    Console.Error.WriteLine($"The silo could not start: {exception.Message}");
    return SiloApp.BadConfigurationExitCode;
}
