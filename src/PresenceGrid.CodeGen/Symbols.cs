using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace PresenceGrid.CodeGen;

/// <summary>Symbol helpers; used only inside transforms, never kept in the pipeline.</summary>
internal static class Symbols
{
    /// <summary><c>global::N.T&lt;string?&gt;</c>: for types in generated code.</summary>
    public static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    /// <summary><c>N.T&lt;string&gt;</c>: for names in descriptors and method signatures.</summary>
    public static readonly SymbolDisplayFormat FullNameFormat = new(
        globalNamespaceStyle: SymbolDisplayGlobalNamespaceStyle.Omitted,
        typeQualificationStyle: SymbolDisplayTypeQualificationStyle.NameAndContainingTypesAndNamespaces,
        genericsOptions: SymbolDisplayGenericsOptions.IncludeTypeParameters,
        miscellaneousOptions: SymbolDisplayMiscellaneousOptions.UseSpecialTypes);

    public static bool IsType(ITypeSymbol? type, string ns, string metadataName) =>
        type is not null
        && type.ContainingType is null
        && type.MetadataName == metadataName
        && type.ContainingNamespace?.ToDisplayString() == ns;

    public static bool IsConcurrencyAttribute(INamedTypeSymbol? attribute, string name) =>
        IsType(attribute, "PresenceGrid.Concurrency", name);

    /// <summary>IGrain, IGrainWithStringKey and IAddressable: markers, never proxied themselves.</summary>
    public static bool IsMarkerInterface(INamedTypeSymbol type) =>
        IsType(type, "PresenceGrid", "IGrain")
        || IsType(type, "PresenceGrid", "IGrainWithStringKey")
        || IsType(type, "PresenceGrid", "IAddressable");

    public static bool IsGrainInterface(INamedTypeSymbol type) =>
        type.TypeKind == TypeKind.Interface
        && !IsMarkerInterface(type)
        && type.AllInterfaces.Any(i => IsType(i, "PresenceGrid", "IGrain"));

    public static bool DerivesFromGrain(INamedTypeSymbol type)
    {
        for (INamedTypeSymbol? baseType = type.BaseType; baseType is not null; baseType = baseType.BaseType)
        {
            if (IsType(baseType, "PresenceGrid", "Grain"))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True when the type or a type that contains it has type parameters.</summary>
    public static bool IsGeneric(INamedTypeSymbol type)
    {
        for (INamedTypeSymbol? t = type; t is not null; t = t.ContainingType)
        {
            if (t.IsGenericType)
            {
                return true;
            }
        }

        return false;
    }

    public static ReturnKind GetReturnKind(ITypeSymbol returnType, out ITypeSymbol? resultType)
    {
        resultType = null;
        if (returnType is not INamedTypeSymbol named)
        {
            return ReturnKind.Invalid;
        }

        const string Tasks = "System.Threading.Tasks";
        if (IsType(named, Tasks, "Task"))
        {
            return ReturnKind.Task;
        }

        if (IsType(named, Tasks, "ValueTask"))
        {
            return ReturnKind.ValueTask;
        }

        if (named.TypeArguments.Length == 1 && IsType(named.OriginalDefinition, Tasks, "Task`1"))
        {
            resultType = named.TypeArguments[0];
            return ReturnKind.TaskOfT;
        }

        if (named.TypeArguments.Length == 1 && IsType(named.OriginalDefinition, Tasks, "ValueTask`1"))
        {
            resultType = named.TypeArguments[0];
            return ReturnKind.ValueTaskOfT;
        }

        return ReturnKind.Invalid;
    }

    public static bool HasAccessibleParameterlessConstructor(ITypeSymbol type, Compilation compilation)
    {
        if (type is not INamedTypeSymbol named || !compilation.IsSymbolAccessibleWithin(named, compilation.Assembly))
        {
            return false;
        }

        switch (named.TypeKind)
        {
            case TypeKind.Struct:
            case TypeKind.Enum:
                return true;
            case TypeKind.Class:
                return !named.IsAbstract
                    && !named.IsStatic
                    && named.InstanceConstructors.Any(c =>
                        c.Parameters.Length == 0 && compilation.IsSymbolAccessibleWithin(c, compilation.Assembly));
            default:
                return false;
        }
    }

    public static ITypeSymbol WithoutNullableReference(ITypeSymbol type) =>
        type.IsReferenceType && type.NullableAnnotation == NullableAnnotation.Annotated
            ? type.WithNullableAnnotation(NullableAnnotation.NotAnnotated)
            : type;

    /// <summary>The default grain type: <c>UserGrain</c> is <c>user</c>, <c>Grain</c> stays <c>grain</c>.</summary>
    public static string DefaultGrainType(string className)
    {
        const string Suffix = "Grain";
        string name = className.Length > Suffix.Length && className.EndsWith(Suffix, System.StringComparison.Ordinal)
            ? className.Substring(0, className.Length - Suffix.Length)
            : className;
        return name.ToLowerInvariant();
    }

    public static string Literal(string value) => SymbolDisplay.FormatLiteral(value, quote: true);
}
