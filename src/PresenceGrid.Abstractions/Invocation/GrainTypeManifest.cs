using System.Collections.Concurrent;
using System.ComponentModel;
using PresenceGrid.Persistence;

namespace PresenceGrid.Invocation;

/// <summary>How a grain class is scheduled.</summary>
[Flags]
public enum GrainClassOptions
{
    /// <summary>One request at a time.</summary>
    None = 0,

    /// <summary><c>[Reentrant]</c>: requests interleave at awaits.</summary>
    Reentrant = 1,

    /// <summary><c>[StatelessWorker]</c>: local pool of activations, no directory registration.</summary>
    StatelessWorker = 2,
}

/// <summary>What a generated grain factory needs to construct a grain.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IGrainActivationContext
{
    /// <summary>The silo's services, for constructor injection.</summary>
    IServiceProvider Services { get; }

    /// <summary>Creates the persistent state of a <c>[PersistentState]</c> constructor parameter.</summary>
    /// <typeparam name="TState">The state type.</typeparam>
    /// <param name="stateName">The state's name.</param>
    /// <param name="storageName">The provider's name; null for <c>Default</c>.</param>
    /// <param name="createDefault">Creates the empty state.</param>
    /// <returns>The state, read before <see cref="Grain.OnActivateAsync"/>.</returns>
    IPersistentState<TState> GetPersistentState<TState>(string stateName, string? storageName, Func<TState> createDefault);
}

/// <summary>A grain class as the source generator saw it: its type name, interfaces, options and factory.</summary>
/// <param name="GrainType">The grain type (first part of the grain id).</param>
/// <param name="GrainClass">The class.</param>
/// <param name="Interfaces">The grain interfaces it implements.</param>
/// <param name="Options">Scheduling options.</param>
/// <param name="MaxLocalWorkers">For stateless workers: the limit per key and silo, 0 for the silo's default.</param>
/// <param name="Factory">Constructs the grain (inside <see cref="GrainConstructionScope"/>).</param>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed record GrainClassDescriptor(
    string GrainType,
    Type GrainClass,
    IReadOnlyList<Type> Interfaces,
    GrainClassOptions Options,
    int MaxLocalWorkers,
    Func<IGrainActivationContext, Grain> Factory)
{
    /// <summary>True for <c>[Reentrant]</c> classes.</summary>
    public bool IsReentrant => (Options & GrainClassOptions.Reentrant) != 0;

    /// <summary>True for <c>[StatelessWorker]</c> classes.</summary>
    public bool IsStatelessWorker => (Options & GrainClassOptions.StatelessWorker) != 0;
}

/// <summary>
/// What the source generator knows about grain interfaces and classes, registered by generated
/// module initializers when an assembly loads. Lookups on the call path are static generic fields.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class GrainTypeManifest
{
    private static readonly ConcurrentDictionary<string, GrainClassDescriptor> GrainClasses = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<uint, GrainMethodDescriptor> Methods = new();

    /// <summary>Registers the generated proxy factory and methods of a grain interface.</summary>
    /// <typeparam name="TInterface">The grain interface.</typeparam>
    /// <param name="proxyFactory">Creates a proxy.</param>
    /// <param name="methods">The interface's methods.</param>
    public static void AddInterface<TInterface>(Func<GrainId, IGrainCallSink, TInterface> proxyFactory, params GrainMethodDescriptor[] methods)
        where TInterface : IGrain
    {
        GrainInterface<TInterface>.ProxyFactory = proxyFactory;
        foreach (GrainMethodDescriptor method in methods)
        {
            if (!Methods.TryAdd(method.MethodId, method) && !ReferenceEquals(Methods[method.MethodId], method)
                && Methods[method.MethodId].InterfaceName != method.InterfaceName)
            {
                throw new InvalidOperationException(
                    $"Grain methods {Methods[method.MethodId]} and {method} have the same method id {method.MethodId}; rename one.");
            }
        }
    }

    /// <summary>Registers a grain class and maps its interfaces to its grain type.</summary>
    /// <param name="descriptor">The class.</param>
    public static void AddGrainClass(GrainClassDescriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        GrainClassDescriptor existing = GrainClasses.GetOrAdd(descriptor.GrainType, descriptor);
        if (existing.GrainClass != descriptor.GrainClass)
        {
            throw new InvalidOperationException(
                $"Grain classes {existing.GrainClass.FullName} and {descriptor.GrainClass.FullName} both have grain type '{descriptor.GrainType}'; name one with [GrainType].");
        }
    }

    /// <summary>Maps an interface to the grain type that implements it.</summary>
    /// <typeparam name="TInterface">The grain interface.</typeparam>
    /// <param name="grainType">The grain type.</param>
    public static void MapInterface<TInterface>(string grainType)
        where TInterface : IGrain
    {
        string? existing = Interlocked.CompareExchange(ref GrainInterface<TInterface>.GrainTypeSlot, grainType, null);
        if (existing is not null && existing != grainType)
        {
            GrainInterface<TInterface>.Ambiguity = $"both '{existing}' and '{grainType}'";
        }
    }

    /// <summary>Finds a grain class by grain type.</summary>
    /// <param name="grainType">The grain type.</param>
    /// <param name="descriptor">The class.</param>
    /// <returns>True when found.</returns>
    public static bool TryGetGrainClass(string grainType, out GrainClassDescriptor descriptor) =>
        GrainClasses.TryGetValue(grainType, out descriptor!);

    /// <summary>Finds a method by its stable id (for requests that arrive from another silo).</summary>
    /// <param name="methodId">The id.</param>
    /// <param name="descriptor">The method.</param>
    /// <returns>True when found.</returns>
    public static bool TryGetMethod(uint methodId, out GrainMethodDescriptor descriptor) =>
        Methods.TryGetValue(methodId, out descriptor!);

    /// <summary>All registered grain classes.</summary>
    public static IEnumerable<GrainClassDescriptor> GrainClassDescriptors => GrainClasses.Values;

    /// <summary>Per-interface registration, read on the call path without a dictionary lookup.</summary>
    /// <typeparam name="TInterface">The grain interface.</typeparam>
    public static class GrainInterface<TInterface>
        where TInterface : IGrain
    {
        internal static string? GrainTypeSlot;
        internal static string? Ambiguity;

        /// <summary>The generated proxy factory, or null when the interface's assembly was built without the generator.</summary>
        public static Func<GrainId, IGrainCallSink, TInterface>? ProxyFactory { get; internal set; }

        /// <summary>The grain type that implements the interface.</summary>
        /// <exception cref="InvalidOperationException">When no class or several classes implement it.</exception>
        public static string GrainType
        {
            get
            {
                if (Ambiguity is not null)
                {
                    throw new InvalidOperationException(
                        $"Grain interface {typeof(TInterface).FullName} is implemented by {Ambiguity}; give each its own interface.");
                }

                return Volatile.Read(ref GrainTypeSlot) ?? throw new InvalidOperationException(
                    $"No grain class implements {typeof(TInterface).FullName}. Is its assembly built with UsePresenceGridCodeGen=true and added to the silo (AddGrainAssembly)?");
            }
        }
    }
}
