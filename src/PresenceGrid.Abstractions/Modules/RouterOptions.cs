namespace PresenceGrid.Modules;

/// <summary>Options of the presence router pipeline (configuration section <see cref="SectionName"/>).</summary>
public sealed class RouterOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "presence:router";

    /// <summary>The default of <see cref="ModuleCallbackTimeout"/>: one second.</summary>
    public static readonly TimeSpan DefaultModuleCallbackTimeout = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long one call of one module callback may take before its result is skipped (logged and counted as a timeout).
    /// Default 1 s. Must be positive, or <see cref="Timeout.InfiniteTimeSpan"/> to wait forever (not recommended: a hung module
    /// then stalls presence delivery).
    /// </summary>
    public TimeSpan ModuleCallbackTimeout { get; set; } = DefaultModuleCallbackTimeout;
}
