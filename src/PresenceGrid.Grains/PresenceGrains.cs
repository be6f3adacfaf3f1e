namespace PresenceGrid;

/// <summary>The presence grains' assembly, for <c>silo.AddGrainAssembly(PresenceGrains.Assembly)</c>.</summary>
public static class PresenceGrains
{
    /// <summary>The assembly.</summary>
    public static System.Reflection.Assembly Assembly => typeof(PresenceGrains).Assembly;
}
