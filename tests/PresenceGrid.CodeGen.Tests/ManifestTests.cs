using PresenceGrid.CodeGen.Tests.Samples;
using PresenceGrid.Invocation;
using Xunit;
using OtherCounter = PresenceGrid.CodeGen.Tests.Samples.Other.ICounterGrain;

namespace PresenceGrid.CodeGen.Tests;

public sealed class ManifestTests
{
    [Fact]
    public void Proxy_factories_are_registered_for_every_grain_interface()
    {
        Assert.NotNull(GrainTypeManifest.GrainInterface<ICounterGrain>.ProxyFactory);
        Assert.NotNull(GrainTypeManifest.GrainInterface<IAdvancedCounterGrain>.ProxyFactory);
        Assert.NotNull(GrainTypeManifest.GrainInterface<IWorkerGrain>.ProxyFactory);
        Assert.NotNull(GrainTypeManifest.GrainInterface<INamedGrain>.ProxyFactory);
        Assert.NotNull(GrainTypeManifest.GrainInterface<IPooledGrain>.ProxyFactory);
        Assert.NotNull(GrainTypeManifest.GrainInterface<OtherCounter>.ProxyFactory);
    }

    [Fact]
    public void Interfaces_map_to_grain_types()
    {
        Assert.Equal("counter", GrainTypeManifest.GrainInterface<ICounterGrain>.GrainType);
        Assert.Equal("counter", GrainTypeManifest.GrainInterface<IAdvancedCounterGrain>.GrainType);
        Assert.Equal("worker", GrainTypeManifest.GrainInterface<IWorkerGrain>.GrainType);
        Assert.Equal("custom", GrainTypeManifest.GrainInterface<INamedGrain>.GrainType);
        Assert.Equal("pooled", GrainTypeManifest.GrainInterface<IPooledGrain>.GrainType);
        Assert.Equal("grain", GrainTypeManifest.GrainInterface<OtherCounter>.GrainType);
    }

    [Fact]
    public void Reentrant_class_descriptor()
    {
        Assert.True(GrainTypeManifest.TryGetGrainClass("counter", out GrainClassDescriptor descriptor));
        Assert.Equal(typeof(CounterGrain), descriptor.GrainClass);
        Assert.Equal(GrainClassOptions.Reentrant, descriptor.Options);
        Assert.True(descriptor.IsReentrant);
        Assert.False(descriptor.IsStatelessWorker);
        Assert.Equal(0, descriptor.MaxLocalWorkers);
        Assert.Equal(
            new[] { typeof(IAdvancedCounterGrain), typeof(ICounterGrain) }.OrderBy(t => t.FullName),
            descriptor.Interfaces.OrderBy(t => t.FullName));
    }

    [Fact]
    public void Stateless_worker_with_max_local_workers()
    {
        Assert.True(GrainTypeManifest.TryGetGrainClass("worker", out GrainClassDescriptor descriptor));
        Assert.Equal(typeof(WorkerGrain), descriptor.GrainClass);
        Assert.Equal(GrainClassOptions.StatelessWorker, descriptor.Options);
        Assert.Equal(3, descriptor.MaxLocalWorkers);
        Assert.Equal(new[] { typeof(IWorkerGrain) }, descriptor.Interfaces);
    }

    [Fact]
    public void Stateless_worker_inherited_from_base_class()
    {
        Assert.True(GrainTypeManifest.TryGetGrainClass("pooled", out GrainClassDescriptor descriptor));
        Assert.Equal(typeof(PooledGrain), descriptor.GrainClass);
        Assert.True(descriptor.IsStatelessWorker);
        Assert.Equal(0, descriptor.MaxLocalWorkers);
    }

    [Fact]
    public void Grain_type_attribute_names_the_type()
    {
        Assert.True(GrainTypeManifest.TryGetGrainClass("custom", out GrainClassDescriptor descriptor));
        Assert.Equal(typeof(NamedGrain), descriptor.GrainClass);
        Assert.Equal(GrainClassOptions.None, descriptor.Options);
        Assert.False(GrainTypeManifest.TryGetGrainClass("named", out _));
    }

    [Fact]
    public void A_class_named_Grain_keeps_grain_as_its_type()
    {
        Assert.True(GrainTypeManifest.TryGetGrainClass("grain", out GrainClassDescriptor descriptor));
        Assert.Equal(typeof(Samples.Other.Grain), descriptor.GrainClass);
        Assert.Equal(new[] { typeof(OtherCounter) }, descriptor.Interfaces);
    }

    [Fact]
    public void Methods_are_registered_by_stable_id_and_overloads_differ()
    {
        var sink = new FakeSink();
        ICounterGrain proxy = GrainTypeManifest.GrainInterface<ICounterGrain>.ProxyFactory!(new GrainId("counter", "m"), sink);
        _ = proxy.Echo("a");
        _ = proxy.Echo("a", 2);
        GrainMethodDescriptor one = sink.Sent[0].Request.Method;
        GrainMethodDescriptor two = sink.Sent[1].Request.Method;

        Assert.NotEqual(one.MethodId, two.MethodId);
        Assert.Equal("ICounterGrain.Echo", one.DisplayName);
        Assert.Equal("ICounterGrain.Echo", two.DisplayName);
        Assert.Equal(typeof(ICounterGrain).FullName, one.InterfaceName);
        Assert.True(GrainTypeManifest.TryGetMethod(one.MethodId, out GrainMethodDescriptor found));
        Assert.Same(one, found);
        Assert.True(GrainTypeManifest.TryGetMethod(two.MethodId, out found));
        Assert.Same(two, found);
    }
}
