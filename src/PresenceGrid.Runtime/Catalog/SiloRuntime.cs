using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PresenceGrid.Invocation;
using PresenceGrid.Persistence;
using PresenceGrid.Runtime.Configuration;
using PresenceGrid.Runtime.Diagnostics;
using PresenceGrid.Runtime.GrainDirectory;
using PresenceGrid.Runtime.Messaging;
using PresenceGrid.Runtime.Persistence;

namespace PresenceGrid.Runtime.Catalog;

/// <summary>The per-silo services an activation needs, in one place.</summary>
internal sealed class SiloRuntime : IDisposable
{
    private readonly ConcurrentDictionary<(Type State, string Name, string Provider, Delegate CreateDefault), object> _stateBindings = new();
    private readonly ConcurrentDictionary<GrainClassDescriptor, SiloGrainClass> _grainClasses = new(ReferenceEqualityComparer.Instance);

    // Activation ids: a random half per runtime and a counting half per activation, so an activation
    // keeps an 8-byte number instead of a 16-byte Guid and still gets an id no other silo or
    // incarnation makes.
    private readonly long _activationIdPrefix = Random.Shared.NextInt64();
    private long _activationCount;

    private int _stopping;

    public SiloRuntime(
        IServiceProvider services,
        TimeProvider timeProvider,
        ILocalSiloDetails localSilo,
        IGrainDirectory directory,
        IOptions<GrainCollectionOptions> collectionOptions,
        IOptions<SiloMessagingOptions> messagingOptions,
        ILoggerFactory loggerFactory,
        RuntimeInstruments instruments)
    {
        Services = services;
        TimeProvider = timeProvider;
        LocalSilo = localSilo;
        Directory = directory;
        CollectionOptions = collectionOptions.Value;
        MessagingOptions = messagingOptions.Value;
        Logger = loggerFactory.CreateLogger("PresenceGrid.Runtime");
        Instruments = instruments;
        GrainTimers = new Timers.GrainTimerQueue(timeProvider);
        InFlight = new InFlightRequests(timeProvider, MessagingOptions.ResponseTimeout, Logger, instruments);
        Catalog = new ActivationCatalog(this);
        (directory as SingleSiloGrainDirectory)?.Attach(Catalog);
        Router = new GrainCallRouter(this);
        GrainFactory = new GrainFactory(Router);
    }

    public IServiceProvider Services { get; }

    /// <summary>A number for a new activation, unique within this runtime; <see cref="ActivationIdOf"/> makes its id.</summary>
    internal long NextActivationNumber() => Interlocked.Increment(ref _activationCount);

    /// <summary>The cluster-unique activation id of activation number <paramref name="number"/> of this runtime.</summary>
    internal Guid ActivationIdOf(long number)
    {
        Span<byte> bytes = stackalloc byte[16];
        BitConverter.TryWriteBytes(bytes, _activationIdPrefix);
        BitConverter.TryWriteBytes(bytes[8..], number);
        return new Guid(bytes);
    }

    /// <summary>The grain class as this silo runs it, shared by all of the class's activations here.</summary>
    internal SiloGrainClass GetGrainClass(GrainClassDescriptor descriptor) =>
        _grainClasses.GetOrAdd(descriptor, static (d, runtime) => new SiloGrainClass(runtime, d), this);

    /// <summary>
    /// The binding of a grain class's persistent state (name, storage, default), made once and shared
    /// by its activations instead of kept by each.
    /// </summary>
    /// <exception cref="InvalidOperationException">No storage of that name is registered.</exception>
    internal PersistentStateBinding<TState> GetStateBinding<TState>(GrainId grainId, string stateName, string? storageName, Func<TState> createDefault)
    {
        string provider = storageName ?? GrainStorageNames.Default;
        var key = (typeof(TState), stateName, provider, (Delegate)createDefault);
        if (_stateBindings.TryGetValue(key, out object? binding))
        {
            return (PersistentStateBinding<TState>)binding;
        }

        IGrainStorage storage = Services.GetKeyedService<IGrainStorage>(provider)
            ?? throw new InvalidOperationException(
                $"Grain {grainId} needs grain storage '{provider}' for state '{stateName}', but none is registered. Add it with silo.AddMemoryGrainStorage(\"{provider}\") or another provider.");
        return (PersistentStateBinding<TState>)_stateBindings.GetOrAdd(key, new PersistentStateBinding<TState>(stateName, storage, createDefault));
    }

    public TimeProvider TimeProvider { get; }

    public ILocalSiloDetails LocalSilo { get; }

    public IGrainDirectory Directory { get; }

    public GrainCollectionOptions CollectionOptions { get; }

    public SiloMessagingOptions MessagingOptions { get; }

    public ILogger Logger { get; }

    public RuntimeInstruments Instruments { get; }

    public InFlightRequests InFlight { get; }

    /// <summary>Every grain timer of the silo, behind one timer of <see cref="TimeProvider"/>.</summary>
    public Timers.GrainTimerQueue GrainTimers { get; }

    public ActivationCatalog Catalog { get; }

    public GrainCallRouter Router { get; }

    public GrainFactory GrainFactory { get; }

    /// <summary>The cluster parts, or null for a single silo.</summary>
    public Membership.ClusterServices? Cluster { get; set; }

    /// <summary>True once the silo began to stop: new activations are refused.</summary>
    public bool IsStopping => Volatile.Read(ref _stopping) != 0;

    public void MarkStopping() => Volatile.Write(ref _stopping, 1);

    /// <summary>Delivers the outcome of an invocation to its caller.</summary>
    public void Complete(GrainRequest request, Task invocation)
    {
        InFlight.Remove(request);
        if (request.Method.IsOneWay)
        {
            if (invocation.IsFaulted)
            {
                RuntimeLog.OneWayCallFailed(Logger, invocation.Exception!.InnerException ?? invocation.Exception, request.Method.DisplayName, request.TargetId);
            }

            return;
        }

        request.CompleteFrom(invocation);
    }

    /// <summary>Fails a request that did not run.</summary>
    public void Fail(GrainRequest request, Exception exception)
    {
        InFlight.Remove(request);
        if (request.Method.IsOneWay)
        {
            RuntimeLog.OneWayCallFailed(Logger, exception, request.Method.DisplayName, request.TargetId);
            return;
        }

        request.TryFail(exception);
    }

    public void Dispose()
    {
        InFlight.Dispose();
        GrainTimers.Dispose();
    }
}
