namespace PresenceGrid.Routing;

/// <summary>Names a loaded module in logs, metrics and errors.</summary>
/// <param name="Name">The module type's full name (the <c>module</c> metric tag).</param>
/// <param name="Location">Where it is configured: <c>modules[N]</c> or <c>presence.presence_router</c>.</param>
internal sealed record ModuleIdentity(string Name, string Location)
{
    /// <summary>The location of the legacy router.</summary>
    public const string LegacyLocation = "presence.presence_router";

    /// <summary>The location of the <paramref name="index"/>-th <c>modules:</c> entry.</summary>
    public static string ModulesLocation(int index) => $"modules[{index}]";

    public override string ToString() => $"{Name} ({Location})";
}
