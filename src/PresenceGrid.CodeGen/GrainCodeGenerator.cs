using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace PresenceGrid.CodeGen;

/// <summary>
/// Emits, for the compilation being built, a proxy and one request class per method for every
/// grain interface, a <c>GrainClassDescriptor</c> for every grain class, and a module initializer
/// that registers them all with <c>GrainTypeManifest</c>. No reflection runs at call time.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class GrainCodeGenerator : IIncrementalGenerator
{
    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValueProvider<ImmutableArray<InterfaceModel>> interfaces = context.SyntaxProvider
            .CreateSyntaxProvider(
                static (node, _) => node is InterfaceDeclarationSyntax { BaseList: not null },
                static (ctx, ct) => TransformInterface(ctx, ct))
            .Where(static m => m is not null)
            .Select(static (m, _) => m!)
            .Collect();

        IncrementalValueProvider<ImmutableArray<GrainClassModel>> classes = context.SyntaxProvider
            .CreateSyntaxProvider(
                static (node, _) => node is ClassDeclarationSyntax { BaseList: not null },
                static (ctx, ct) => TransformClass(ctx, ct))
            .Where(static m => m is not null)
            .Select(static (m, _) => m!)
            .Collect();

        IncrementalValueProvider<string> assemblyName = context.CompilationProvider
            .Select(static (c, _) => c.AssemblyName ?? "Assembly");

        IncrementalValueProvider<((ImmutableArray<InterfaceModel> Interfaces, ImmutableArray<GrainClassModel> Classes) Models, string AssemblyName)> all =
            interfaces.Combine(classes).Combine(assemblyName);

        context.RegisterSourceOutput(all, static (spc, input) =>
        {
            ImmutableArray<InterfaceModel> interfaceModels = input.Models.Interfaces;
            ImmutableArray<GrainClassModel> classModels = input.Models.Classes;

            var reported = new HashSet<DiagnosticInfo>();
            foreach (DiagnosticInfo info in interfaceModels.SelectMany(i => i.Diagnostics).Concat(classModels.SelectMany(c => c.Diagnostics)))
            {
                if (reported.Add(info))
                {
                    spc.ReportDiagnostic(GrainDiagnostics.ToDiagnostic(info));
                }
            }

            string? source = SourceEmitter.Emit(input.AssemblyName, interfaceModels, classModels);
            if (source is not null)
            {
                spc.AddSource("PresenceGrid.Generated.g.cs", source);
            }
        });
    }

    private static InterfaceModel? TransformInterface(GeneratorSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.SemanticModel.GetDeclaredSymbol(context.Node, cancellationToken) is not INamedTypeSymbol symbol
            || !Symbols.IsGrainInterface(symbol))
        {
            return null;
        }

        return BuildInterface(symbol, context.SemanticModel.Compilation, cancellationToken);
    }

    private static GrainClassModel? TransformClass(GeneratorSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.SemanticModel.GetDeclaredSymbol(context.Node, cancellationToken) is not INamedTypeSymbol symbol
            || symbol.TypeKind != TypeKind.Class
            || symbol.IsAbstract
            || symbol.IsStatic
            || !Symbols.DerivesFromGrain(symbol))
        {
            return null;
        }

        ImmutableArray<INamedTypeSymbol> grainInterfaces = symbol.AllInterfaces
            .Where(i => Symbols.IsGrainInterface(i) && !Symbols.IsGeneric(i))
            .ToImmutableArray();
        if (grainInterfaces.IsEmpty)
        {
            return null;
        }

        return BuildClass(symbol, grainInterfaces, context.SemanticModel.Compilation, cancellationToken);
    }

    private static InterfaceModel BuildInterface(INamedTypeSymbol symbol, Compilation compilation, CancellationToken cancellationToken)
    {
        string fullName = symbol.ToDisplayString(Symbols.FullNameFormat);
        Location? interfaceLocation = symbol.Locations.FirstOrDefault(l => l.IsInSource);
        var diagnostics = ImmutableArray.CreateBuilder<DiagnosticInfo>();
        var methods = ImmutableArray.CreateBuilder<MethodModel>();

        if (Symbols.IsGeneric(symbol))
        {
            diagnostics.Add(GrainDiagnostics.Info(GrainDiagnostics.GenericInterface, interfaceLocation, fullName));
        }

        if (!compilation.IsSymbolAccessibleWithin(symbol, compilation.Assembly))
        {
            diagnostics.Add(GrainDiagnostics.Info(GrainDiagnostics.Inaccessible, interfaceLocation, "Grain interface", fullName));
        }

        foreach (INamedTypeSymbol iface in new[] { symbol }.Concat(symbol.AllInterfaces))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Symbols.IsMarkerInterface(iface))
            {
                continue;
            }

            string declaringName = iface.ToDisplayString(Symbols.FullNameFormat);
            string declaringType = iface.ToDisplayString(Symbols.TypeFormat);
            int ordinal = 0;
            foreach (ISymbol member in iface.GetMembers())
            {
                if (member.IsStatic || !member.IsAbstract)
                {
                    // Static members and default implementations are not proxied.
                    continue;
                }

                Location? location = member.Locations.FirstOrDefault(l => l.IsInSource) ?? interfaceLocation;
                switch (member)
                {
                    case IPropertySymbol:
                        diagnostics.Add(GrainDiagnostics.Info(GrainDiagnostics.PropertyOrEvent, location, declaringName, "property", member.Name));
                        break;
                    case IEventSymbol:
                        diagnostics.Add(GrainDiagnostics.Info(GrainDiagnostics.PropertyOrEvent, location, declaringName, "event", member.Name));
                        break;
                    case IMethodSymbol { MethodKind: MethodKind.Ordinary } method:
                        MethodModel? model = BuildMethod(method, declaringName, declaringType, ordinal++, location, diagnostics);
                        if (model is not null)
                        {
                            methods.Add(model);
                        }

                        break;
                }
            }
        }

        return new InterfaceModel(
            fullName,
            symbol.ToDisplayString(Symbols.TypeFormat),
            methods.ToImmutable().ToEquatableArray(),
            diagnostics.ToImmutable().ToEquatableArray());
    }

    private static MethodModel? BuildMethod(
        IMethodSymbol method,
        string declaringName,
        string declaringType,
        int ordinal,
        Location? location,
        ImmutableArray<DiagnosticInfo>.Builder diagnostics)
    {
        int errors = diagnostics.Count;
        if (method.IsGenericMethod)
        {
            diagnostics.Add(GrainDiagnostics.Info(GrainDiagnostics.GenericMethod, location, declaringName, method.Name));
        }

        int options = 0;
        foreach (AttributeData attribute in method.GetAttributes())
        {
            if (Symbols.IsConcurrencyAttribute(attribute.AttributeClass, "OneWayAttribute"))
            {
                options |= 1;
            }
            else if (Symbols.IsConcurrencyAttribute(attribute.AttributeClass, "ReadOnlyAttribute"))
            {
                options |= 2;
            }
            else if (Symbols.IsConcurrencyAttribute(attribute.AttributeClass, "AlwaysInterleaveAttribute"))
            {
                options |= 4;
            }
        }

        ReturnKind kind = Symbols.GetReturnKind(method.ReturnType, out ITypeSymbol? resultType);
        string returnDisplay = method.ReturnType.ToDisplayString(Symbols.TypeFormat);
        if (kind == ReturnKind.Invalid)
        {
            diagnostics.Add(GrainDiagnostics.Info(GrainDiagnostics.InvalidReturnType, location, declaringName, method.Name, method.ReturnType.ToDisplayString()));
        }
        else if ((options & 1) != 0 && (kind == ReturnKind.TaskOfT || kind == ReturnKind.ValueTaskOfT))
        {
            diagnostics.Add(GrainDiagnostics.Info(GrainDiagnostics.OneWayWithResult, location, declaringName, method.Name, method.ReturnType.ToDisplayString()));
        }

        var parameterTypes = ImmutableArray.CreateBuilder<string>(method.Parameters.Length);
        var signature = new List<string>(method.Parameters.Length);
        foreach (IParameterSymbol parameter in method.Parameters)
        {
            Location? parameterLocation = parameter.Locations.FirstOrDefault(l => l.IsInSource) ?? location;
            string? problem = parameter.RefKind switch
            {
                RefKind.Ref => "ref parameters are not supported",
                RefKind.Out => "out parameters are not supported",
                RefKind.In => "in parameters are not supported",
                RefKind.None => null,
                _ => "by-reference parameters are not supported",
            };
            if (problem is null && parameter.IsParams)
            {
                problem = "params parameters are not supported";
            }

            if (problem is null && (parameter.Type.IsRefLikeType || parameter.Type is IPointerTypeSymbol or IFunctionPointerTypeSymbol))
            {
                problem = $"its type '{parameter.Type.ToDisplayString()}' cannot be stored in a request";
            }

            if (problem is not null)
            {
                diagnostics.Add(GrainDiagnostics.Info(GrainDiagnostics.UnsupportedParameter, parameterLocation, declaringName, method.Name, parameter.Name, problem));
            }
            else if (Symbols.IsType(parameter.Type, "System.Threading", "CancellationToken"))
            {
                diagnostics.Add(GrainDiagnostics.Info(GrainDiagnostics.CancellationTokenParameter, parameterLocation, declaringName, method.Name, parameter.Name));
            }

            parameterTypes.Add(parameter.Type.ToDisplayString(Symbols.TypeFormat));
            signature.Add(parameter.Type.ToDisplayString(Symbols.FullNameFormat));
        }

        if (diagnostics.Count != errors)
        {
            return null;
        }

        return new MethodModel(
            declaringName,
            declaringType,
            ordinal,
            method.Name,
            kind,
            resultType?.ToDisplayString(Symbols.TypeFormat) ?? string.Empty,
            returnDisplay,
            options,
            string.Join(",", signature),
            parameterTypes.ToImmutable().ToEquatableArray());
    }

    private static GrainClassModel BuildClass(
        INamedTypeSymbol symbol,
        ImmutableArray<INamedTypeSymbol> grainInterfaces,
        Compilation compilation,
        CancellationToken cancellationToken)
    {
        string fullName = symbol.ToDisplayString(Symbols.FullNameFormat);
        Location? classLocation = symbol.Locations.FirstOrDefault(l => l.IsInSource);
        var diagnostics = ImmutableArray.CreateBuilder<DiagnosticInfo>();

        if (Symbols.IsGeneric(symbol))
        {
            diagnostics.Add(GrainDiagnostics.Info(GrainDiagnostics.GenericGrainClass, classLocation, fullName));
        }

        if (!compilation.IsSymbolAccessibleWithin(symbol, compilation.Assembly))
        {
            diagnostics.Add(GrainDiagnostics.Info(GrainDiagnostics.Inaccessible, classLocation, "Grain class", fullName));
        }

        // Grain type: [GrainType("x")] on the class itself, else the class name less "Grain", lower case.
        string grainType = Symbols.DefaultGrainType(symbol.Name);
        foreach (AttributeData attribute in symbol.GetAttributes())
        {
            if (Symbols.IsType(attribute.AttributeClass, "PresenceGrid", "GrainTypeAttribute")
                && attribute.ConstructorArguments.Length == 1
                && attribute.ConstructorArguments[0].Value is string explicitType)
            {
                grainType = explicitType;
            }
        }

        // Scheduling options: [Reentrant] and [StatelessWorker] are inherited; the nearest wins.
        int options = 0;
        int maxLocalWorkers = 0;
        bool foundWorker = false;
        for (INamedTypeSymbol? type = symbol; type is not null; type = type.BaseType)
        {
            foreach (AttributeData attribute in type.GetAttributes())
            {
                if (Symbols.IsConcurrencyAttribute(attribute.AttributeClass, "ReentrantAttribute"))
                {
                    options |= 1;
                }
                else if (!foundWorker && Symbols.IsConcurrencyAttribute(attribute.AttributeClass, "StatelessWorkerAttribute"))
                {
                    foundWorker = true;
                    options |= 2;
                    if (attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is int workers)
                    {
                        maxLocalWorkers = workers;
                    }
                }
            }
        }

        cancellationToken.ThrowIfCancellationRequested();

        // The public constructor with the most parameters.
        IMethodSymbol? constructor = null;
        foreach (IMethodSymbol candidate in symbol.InstanceConstructors)
        {
            if (candidate.DeclaredAccessibility == Accessibility.Public
                && (constructor is null || candidate.Parameters.Length > constructor.Parameters.Length))
            {
                constructor = candidate;
            }
        }

        var arguments = ImmutableArray.CreateBuilder<string>();
        if (constructor is null)
        {
            diagnostics.Add(GrainDiagnostics.Info(GrainDiagnostics.NoPublicConstructor, classLocation, fullName));
        }
        else
        {
            foreach (IParameterSymbol parameter in constructor.Parameters)
            {
                string? argument = BuildConstructorArgument(parameter, fullName, classLocation, compilation, diagnostics);
                if (argument is not null)
                {
                    arguments.Add(argument);
                }
            }
        }

        return new GrainClassModel(
            symbol.ToDisplayString(Symbols.TypeFormat),
            grainType,
            grainInterfaces.Select(i => i.ToDisplayString(Symbols.TypeFormat)).ToImmutableArray().ToEquatableArray(),
            options,
            maxLocalWorkers,
            arguments.ToImmutable().ToEquatableArray(),
            diagnostics.ToImmutable().ToEquatableArray());
    }

    private static string? BuildConstructorArgument(
        IParameterSymbol parameter,
        string className,
        Location? classLocation,
        Compilation compilation,
        ImmutableArray<DiagnosticInfo>.Builder diagnostics)
    {
        Location? location = parameter.Locations.FirstOrDefault(l => l.IsInSource) ?? classLocation;
        AttributeData? persistentState = parameter.GetAttributes()
            .FirstOrDefault(a => Symbols.IsType(a.AttributeClass, "PresenceGrid.Persistence", "PersistentStateAttribute"));

        if (persistentState is not null)
        {
            if (parameter.Type is not INamedTypeSymbol { TypeArguments.Length: 1 } stateInterface
                || !Symbols.IsType(stateInterface.OriginalDefinition, "PresenceGrid.Persistence", "IPersistentState`1"))
            {
                diagnostics.Add(GrainDiagnostics.Info(GrainDiagnostics.PersistentStateType, location, className, parameter.Name, parameter.Type.ToDisplayString()));
                return null;
            }

            ITypeSymbol stateType = stateInterface.TypeArguments[0];
            if (!Symbols.HasAccessibleParameterlessConstructor(stateType, compilation))
            {
                diagnostics.Add(GrainDiagnostics.Info(GrainDiagnostics.PersistentStateNoConstructor, location, className, parameter.Name, stateType.ToDisplayString()));
                return null;
            }

            string stateName = persistentState.ConstructorArguments.Length > 0 && persistentState.ConstructorArguments[0].Value is string name
                ? name
                : parameter.Name;
            string storageName = persistentState.ConstructorArguments.Length > 1 && persistentState.ConstructorArguments[1].Value is string storage
                ? Symbols.Literal(storage)
                : "null";
            string stateTypeName = stateType.ToDisplayString(Symbols.TypeFormat);
            string newStateTypeName = Symbols.WithoutNullableReference(stateType).ToDisplayString(Symbols.TypeFormat);
            return $"ctx.GetPersistentState<{stateTypeName}>({Symbols.Literal(stateName)}, {storageName}, static () => new {newStateTypeName}())";
        }

        const string Extensions = "global::Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions";
        bool annotated = parameter.Type.IsReferenceType && parameter.NullableAnnotation == NullableAnnotation.Annotated;
        bool nullableValue = parameter.Type.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T;
        string serviceType = Symbols.WithoutNullableReference(parameter.Type).ToDisplayString(Symbols.TypeFormat);
        if (annotated || nullableValue)
        {
            return $"{Extensions}.GetService<{serviceType}>(ctx.Services)";
        }

        if (parameter.IsOptional)
        {
            // An optional, not nullable-annotated service: take it when registered, else the default.
            return parameter.Type.IsValueType
                ? $"{Extensions}.GetService<{serviceType}?>(ctx.Services) ?? default({serviceType})"
                : $"{Extensions}.GetService<{serviceType}>(ctx.Services)!";
        }

        return $"{Extensions}.GetRequiredService<{serviceType}>(ctx.Services)";
    }
}
