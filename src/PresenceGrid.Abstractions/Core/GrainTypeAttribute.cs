namespace PresenceGrid;

/// <summary>
/// Names the grain type of a grain class (the first part of its <see cref="GrainId"/>). Without it
/// the type is the class name in lower case, less a trailing "Grain": <c>UserGrain</c> is <c>user</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class GrainTypeAttribute : Attribute
{
    /// <summary>Names the grain type.</summary>
    /// <param name="grainType">The grain type.</param>
    public GrainTypeAttribute(string grainType) => GrainType = grainType;

    /// <summary>The grain type.</summary>
    public string GrainType { get; }
}
