using System.Runtime.CompilerServices;
using PresenceGrid.Invocation;

namespace PresenceGrid.Runtime.Messaging;

/// <summary>Creates generated proxies; the interface-to-type lookup is a static generic field.</summary>
internal sealed class GrainFactory : IGrainFactory
{
    private readonly IGrainCallSink _sink;

    public GrainFactory(IGrainCallSink sink) => _sink = sink;

    public TGrainInterface GetGrain<TGrainInterface>(string key)
        where TGrainInterface : IGrainWithStringKey
    {
        ArgumentNullException.ThrowIfNull(key);
        Func<GrainId, IGrainCallSink, TGrainInterface>? factory = GrainTypeManifest.GrainInterface<TGrainInterface>.ProxyFactory;
        if (factory is null)
        {
            // The interface's assembly may not have run its generated module initializer yet.
            RuntimeHelpers.RunModuleConstructor(typeof(TGrainInterface).Module.ModuleHandle);
            factory = GrainTypeManifest.GrainInterface<TGrainInterface>.ProxyFactory
                ?? throw new InvalidOperationException(
                    $"No proxy was generated for {typeof(TGrainInterface).FullName}. Build its assembly with <UsePresenceGridCodeGen>true</UsePresenceGridCodeGen>.");
        }

        return factory(new GrainId(GrainTypeManifest.GrainInterface<TGrainInterface>.GrainType, key), _sink);
    }
}
