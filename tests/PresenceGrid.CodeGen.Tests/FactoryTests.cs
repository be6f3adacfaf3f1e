using Microsoft.Extensions.DependencyInjection;
using PresenceGrid.CodeGen.Tests.Samples;
using PresenceGrid.Invocation;
using Xunit;

namespace PresenceGrid.CodeGen.Tests;

public sealed class FactoryTests
{
    private static Grain Create(string grainType, ServiceProvider services, FakeActivationContext context)
    {
        Assert.True(GrainTypeManifest.TryGetGrainClass(grainType, out GrainClassDescriptor descriptor));
        using GrainConstructionScope.Scope scope = GrainConstructionScope.Enter(new FakeGrainContext(new GrainId(grainType, "k"), services));
        return descriptor.Factory(context);
    }

    [Fact]
    public void Factory_injects_services_and_persistent_state()
    {
        var clock = new FixedClock();
        using ServiceProvider services = new ServiceCollection().AddSingleton<IClock>(clock).BuildServiceProvider();
        var context = new FakeActivationContext(services);

        CounterGrain grain = Assert.IsType<CounterGrain>(Create("counter", services, context));

        Assert.Same(clock, grain.Clock);
        (string stateName, string? storageName, Type stateType, object? initial) = Assert.Single(context.StatesRequested);
        Assert.Equal("count", stateName);
        Assert.Equal("store", storageName);
        Assert.Equal(typeof(CounterState), stateType);
        Assert.IsType<CounterState>(initial);
        Assert.Same(initial, grain.State.State);
        Assert.Equal(new GrainId("counter", "k"), grain.GrainId);
    }

    [Fact]
    public void Factory_fails_when_a_required_service_is_missing()
    {
        using ServiceProvider services = new ServiceCollection().BuildServiceProvider();
        var context = new FakeActivationContext(services);

        Assert.Throws<InvalidOperationException>(() => Create("counter", services, context));
    }

    [Fact]
    public async Task Factory_passes_null_for_a_missing_nullable_service()
    {
        using ServiceProvider none = new ServiceCollection().BuildServiceProvider();
        using ServiceProvider some = new ServiceCollection().AddSingleton<IClock, FixedClock>().BuildServiceProvider();

        var without = (INamedGrain)Create("custom", none, new FakeActivationContext(none));
        var with = (INamedGrain)Create("custom", some, new FakeActivationContext(some));

        Assert.False(await without.HasClock());
        Assert.True(await with.HasClock());
    }

    [Fact]
    public async Task Factory_of_a_parameterless_grain()
    {
        using ServiceProvider services = new ServiceCollection().BuildServiceProvider();

        var worker = (IWorkerGrain)Create("worker", services, new FakeActivationContext(services));

        Assert.Equal("ABC", await worker.Work("abc"));
    }
}
