using System.ComponentModel;

namespace PresenceGrid.Invocation;

/// <summary>How a grain method may be scheduled and answered.</summary>
[Flags]
public enum GrainMethodOptions
{
    /// <summary>An ordinary request with a response.</summary>
    None = 0,

    /// <summary><c>[OneWay]</c>: no response, the caller does not wait.</summary>
    OneWay = 1,

    /// <summary><c>[ReadOnly]</c>: may interleave with other read-only requests.</summary>
    ReadOnly = 2,

    /// <summary><c>[AlwaysInterleave]</c>: may interleave with any request.</summary>
    AlwaysInterleave = 4,
}

/// <summary>
/// Describes one grain interface method: names, scheduling options, a stable id for the wire, and a
/// factory for empty requests (to deserialize into). Emitted by the source generator, one per method.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class GrainMethodDescriptor
{
    /// <summary>Creates a descriptor.</summary>
    /// <param name="interfaceName">The interface's full name.</param>
    /// <param name="methodName">The method's name.</param>
    /// <param name="signature">The method's parameter types, for the stable id.</param>
    /// <param name="options">Scheduling options.</param>
    /// <param name="createRequest">Creates an empty request of this method.</param>
    public GrainMethodDescriptor(string interfaceName, string methodName, string signature, GrainMethodOptions options, Func<GrainRequest> createRequest)
    {
        InterfaceName = interfaceName;
        MethodName = methodName;
        Options = options;
        CreateRequest = createRequest;
        int dot = interfaceName.LastIndexOf('.');
        DisplayName = $"{(dot >= 0 ? interfaceName[(dot + 1)..] : interfaceName)}.{methodName}";
        MethodId = StableHash.Compute($"{interfaceName}.{methodName}({signature})");
    }

    /// <summary>The interface's full name.</summary>
    public string InterfaceName { get; }

    /// <summary>The method's name.</summary>
    public string MethodName { get; }

    /// <summary><c>Interface.Method</c>, for messages.</summary>
    public string DisplayName { get; }

    /// <summary>Scheduling options.</summary>
    public GrainMethodOptions Options { get; }

    /// <summary>A stable id of interface, method and parameter types, the same in every process.</summary>
    public uint MethodId { get; }

    /// <summary>Creates an empty request of this method, for deserialization.</summary>
    public Func<GrainRequest> CreateRequest { get; }

    /// <summary>True for <c>[OneWay]</c> methods.</summary>
    public bool IsOneWay => (Options & GrainMethodOptions.OneWay) != 0;

    /// <inheritdoc />
    public override string ToString() => DisplayName;
}
