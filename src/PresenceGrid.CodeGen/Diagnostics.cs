using System.Collections.Generic;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;

namespace PresenceGrid.CodeGen;

/// <summary>The generator's diagnostics (documented in README.md).</summary>
internal static class GrainDiagnostics
{
    private const string Category = "PresenceGrid.CodeGen";

    public static readonly DiagnosticDescriptor InvalidReturnType = Create(
        "PGRID001",
        "Grain method has an unsupported return type",
        "Grain interface method '{0}.{1}' returns '{2}'; grain methods must return Task, Task<T>, ValueTask or ValueTask<T>");

    public static readonly DiagnosticDescriptor OneWayWithResult = Create(
        "PGRID002",
        "[OneWay] grain method returns a value",
        "Grain interface method '{0}.{1}' is [OneWay] but returns '{2}'; a [OneWay] method must return Task or ValueTask");

    public static readonly DiagnosticDescriptor UnsupportedParameter = Create(
        "PGRID003",
        "Grain method parameter is not supported",
        "Parameter '{2}' of grain interface method '{0}.{1}' is not supported: {3}");

    public static readonly DiagnosticDescriptor CancellationTokenParameter = Create(
        "PGRID004",
        "CancellationToken parameters are not supported",
        "Parameter '{2}' of grain interface method '{0}.{1}' is a CancellationToken; cancellation tokens are not supported in grain calls yet");

    public static readonly DiagnosticDescriptor GenericMethod = Create(
        "PGRID005",
        "Generic grain methods are not supported",
        "Grain interface method '{0}.{1}' is generic; generic grain methods are not supported");

    public static readonly DiagnosticDescriptor GenericInterface = Create(
        "PGRID006",
        "Generic grain interfaces are not supported",
        "Grain interface '{0}' is generic; generic grain interfaces are not supported");

    public static readonly DiagnosticDescriptor PropertyOrEvent = Create(
        "PGRID007",
        "Grain interfaces may declare only methods",
        "Grain interface '{0}' declares {1} '{2}'; grain interfaces may declare only methods");

    public static readonly DiagnosticDescriptor PersistentStateType = Create(
        "PGRID008",
        "[PersistentState] parameter is not IPersistentState<T>",
        "Parameter '{1}' of the constructor of grain class '{0}' has [PersistentState] but its type '{2}' is not IPersistentState<T>");

    public static readonly DiagnosticDescriptor PersistentStateNoConstructor = Create(
        "PGRID009",
        "Persistent state type has no parameterless constructor",
        "Parameter '{1}' of the constructor of grain class '{0}' is persistent state of '{2}', which has no accessible parameterless constructor to create the empty state");

    public static readonly DiagnosticDescriptor NoPublicConstructor = Create(
        "PGRID010",
        "Grain class has no public constructor",
        "Grain class '{0}' has no public constructor; the runtime constructs grains through a public constructor");

    public static readonly DiagnosticDescriptor Inaccessible = Create(
        "PGRID011",
        "Grain type is not accessible",
        "{0} '{1}' must be public or internal (and not nested in a private or protected type) so generated code can use it");

    public static readonly DiagnosticDescriptor GenericGrainClass = Create(
        "PGRID012",
        "Generic grain classes are not supported",
        "Grain class '{0}' is generic; generic grain classes are not supported");

    private static readonly Dictionary<string, DiagnosticDescriptor> ById = new()
    {
        [InvalidReturnType.Id] = InvalidReturnType,
        [OneWayWithResult.Id] = OneWayWithResult,
        [UnsupportedParameter.Id] = UnsupportedParameter,
        [CancellationTokenParameter.Id] = CancellationTokenParameter,
        [GenericMethod.Id] = GenericMethod,
        [GenericInterface.Id] = GenericInterface,
        [PropertyOrEvent.Id] = PropertyOrEvent,
        [PersistentStateType.Id] = PersistentStateType,
        [PersistentStateNoConstructor.Id] = PersistentStateNoConstructor,
        [NoPublicConstructor.Id] = NoPublicConstructor,
        [Inaccessible.Id] = Inaccessible,
        [GenericGrainClass.Id] = GenericGrainClass,
    };

    public static DiagnosticInfo Info(DiagnosticDescriptor descriptor, Location? location, params string[] arguments) =>
        new(descriptor.Id, arguments.ToImmutableArray().ToEquatableArray(), LocationInfo.From(location));

    public static Diagnostic ToDiagnostic(DiagnosticInfo info) =>
        Diagnostic.Create(ById[info.Id], info.Location?.ToLocation() ?? Location.None, info.Arguments.Items.ToArrayOfObjects());

    private static object?[] ToArrayOfObjects(this ImmutableArray<string> items)
    {
        object?[] result = new object?[items.Length];
        for (int i = 0; i < items.Length; i++)
        {
            result[i] = items[i];
        }

        return result;
    }

    private static DiagnosticDescriptor Create(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
}
