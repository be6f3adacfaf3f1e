namespace PresenceGrid.Modules;

/// <summary>
/// A module could not be loaded; start-up stops. The message names the module type, where it is configured
/// (<c>modules[2]</c> or <c>presence.presence_router</c>) and what is wrong.
/// </summary>
public sealed class ModuleLoadException : PresenceGridException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="moduleType">The configured type name.</param>
    /// <param name="configLocation">Where the module is configured, for example <c>modules[2]</c>.</param>
    /// <param name="reason">What is wrong.</param>
    /// <param name="innerException">The cause, if any.</param>
    public ModuleLoadException(string moduleType, string configLocation, string reason, Exception? innerException = null)
        : base($"Cannot load module '{moduleType}' ({configLocation}): {reason}", innerException)
    {
        ModuleType = moduleType;
        ConfigLocation = configLocation;
        Reason = reason;
    }

    /// <summary>The configured type name.</summary>
    public string ModuleType { get; }

    /// <summary>Where the module is configured: <c>modules[N]</c> or <c>presence.presence_router</c>.</summary>
    public string ConfigLocation { get; }

    /// <summary>What is wrong, without the module and location prefix.</summary>
    public string Reason { get; }
}
