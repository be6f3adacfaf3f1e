using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace PresenceGrid.CodeGen;

/// <summary>How a grain method returns.</summary>
internal enum ReturnKind
{
    Invalid,
    Task,
    TaskOfT,
    ValueTask,
    ValueTaskOfT,
}

/// <summary>A source location that does not hold on to a syntax tree.</summary>
internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);

    public static LocationInfo? From(Location? location)
    {
        if (location is null || !location.IsInSource || location.SourceTree is null)
        {
            return null;
        }

        return new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);
    }
}

/// <summary>A diagnostic to report, by descriptor id and message arguments.</summary>
internal sealed record DiagnosticInfo(string Id, EquatableArray<string> Arguments, LocationInfo? Location);

/// <summary>One method a proxy implements (declared on the interface or inherited).</summary>
/// <param name="DeclaringInterfaceName">Full name of the declaring interface, without <c>global::</c>.</param>
/// <param name="DeclaringInterfaceType">The declaring interface as a fully qualified C# type.</param>
/// <param name="Ordinal">Index of the method among the declaring interface's proxied methods.</param>
/// <param name="Name">The method's name.</param>
/// <param name="Kind">How it returns.</param>
/// <param name="ResultType">The T of Task&lt;T&gt; or ValueTask&lt;T&gt;; empty otherwise.</param>
/// <param name="ReturnType">The return type as a fully qualified C# type.</param>
/// <param name="Options">GrainMethodOptions flags.</param>
/// <param name="Signature">Comma-joined parameter types, for the stable method id.</param>
/// <param name="ParameterTypes">Parameter types as fully qualified C# types with nullable annotations.</param>
internal sealed record MethodModel(
    string DeclaringInterfaceName,
    string DeclaringInterfaceType,
    int Ordinal,
    string Name,
    ReturnKind Kind,
    string ResultType,
    string ReturnType,
    int Options,
    string Signature,
    EquatableArray<string> ParameterTypes)
{
    public string Key => DeclaringInterfaceName + "#" + Ordinal.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public bool IsOneWay => (Options & 1) != 0;
}

/// <summary>A grain interface.</summary>
internal sealed record InterfaceModel(
    string FullName,
    string TypeName,
    EquatableArray<MethodModel> Methods,
    EquatableArray<DiagnosticInfo> Diagnostics)
{
    public bool IsValid => Diagnostics.Length == 0;
}

/// <summary>A grain class.</summary>
/// <param name="TypeName">The class as a fully qualified C# type.</param>
/// <param name="GrainType">The grain type name.</param>
/// <param name="Interfaces">Its grain interfaces, as fully qualified C# types.</param>
/// <param name="Options">GrainClassOptions flags.</param>
/// <param name="MaxLocalWorkers">From [StatelessWorker(n)], else 0.</param>
/// <param name="ConstructorArguments">C# expressions over <c>ctx</c>, one per constructor parameter.</param>
/// <param name="Diagnostics">Problems; nothing is emitted for the class when there are any.</param>
internal sealed record GrainClassModel(
    string TypeName,
    string GrainType,
    EquatableArray<string> Interfaces,
    int Options,
    int MaxLocalWorkers,
    EquatableArray<string> ConstructorArguments,
    EquatableArray<DiagnosticInfo> Diagnostics)
{
    public bool IsValid => Diagnostics.Length == 0;
}
