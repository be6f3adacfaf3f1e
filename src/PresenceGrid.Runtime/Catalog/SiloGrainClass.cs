using PresenceGrid.Invocation;

namespace PresenceGrid.Runtime.Catalog;

/// <summary>
/// A grain class as one silo runs it: the silo's runtime and the class's descriptor behind one
/// reference, shared by every activation of the class on the silo (an activation lives as long as
/// its user is online, so each field it keeps is paid per online user).
/// </summary>
internal sealed class SiloGrainClass(SiloRuntime runtime, GrainClassDescriptor descriptor)
{
    public SiloRuntime Runtime { get; } = runtime;

    public GrainClassDescriptor Descriptor { get; } = descriptor;
}
