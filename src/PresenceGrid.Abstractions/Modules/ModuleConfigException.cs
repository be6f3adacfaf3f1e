namespace PresenceGrid.Modules;

/// <summary>
/// A module's configuration is invalid (Synapse's <c>ConfigError</c>). Throw it from a module's static <c>ParseConfig</c>;
/// the loader wraps it in a <see cref="ModuleLoadException"/> that names the module.
/// </summary>
public sealed class ModuleConfigException : PresenceGridException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="key">The configuration key at fault, for example <c>always_send_to_users[1]</c>.</param>
    /// <param name="message">What is wrong; it should name the key and the value.</param>
    public ModuleConfigException(string key, string message)
        : base(message)
    {
        Key = key;
    }

    /// <summary>The configuration key at fault, for example <c>always_send_to_users[1]</c>.</summary>
    public string Key { get; }
}
