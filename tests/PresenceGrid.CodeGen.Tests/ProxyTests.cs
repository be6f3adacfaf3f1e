using Microsoft.Extensions.DependencyInjection;
using PresenceGrid.CodeGen.Tests.Samples;
using PresenceGrid.Invocation;
using Xunit;
using OtherCounter = PresenceGrid.CodeGen.Tests.Samples.Other.ICounterGrain;

namespace PresenceGrid.CodeGen.Tests;

public sealed class ProxyTests
{
    private readonly FakeSink _sink = new();

    private static readonly GrainId CounterId = new("counter", "c1");

    private TInterface Proxy<TInterface>(GrainId id)
        where TInterface : IGrain =>
        GrainTypeManifest.GrainInterface<TInterface>.ProxyFactory!(id, _sink);

    private static CounterGrain NewCounter()
    {
        using ServiceProvider services = new ServiceCollection().BuildServiceProvider();
        using GrainConstructionScope.Scope scope = GrainConstructionScope.Enter(new FakeGrainContext(CounterId, services));
        return new CounterGrain();
    }

    /// <summary>What the runtime does with a request: invoke it on the grain, then complete the caller.</summary>
    private static async Task RunAsync(GrainRequest request, object grain)
    {
        Task invocation = request.Invoke(grain);
        try
        {
            await invocation;
        }
        catch (InvalidOperationException)
        {
            // Delivered to the caller below.
        }

        request.CompleteFrom(invocation);
    }

    [Fact]
    public async Task Task_of_T_method_sends_a_request_and_gets_the_result()
    {
        ICounterGrain proxy = Proxy<ICounterGrain>(CounterId);
        CounterGrain grain = NewCounter();

        Task<int> call = proxy.Add(5);

        Assert.False(call.IsCompleted);
        (GrainReference target, GrainRequest request) = Assert.Single(_sink.Sent);
        Assert.Same(proxy, target);
        Assert.Equal(CounterId, request.TargetId);
        Assert.Equal("ICounterGrain.Add", request.Method.DisplayName);
        Assert.Equal("Add", request.Method.MethodName);
        Assert.Equal(GrainMethodOptions.None, request.Method.Options);
        Assert.IsAssignableFrom<GrainRequest<int>>(request);
        Assert.Equal(new object?[] { 5 }, RequestFields.Args(request));

        await RunAsync(request, grain);

        Assert.Equal(5, await call);
        Assert.Equal(5, grain.Count);
    }

    [Fact]
    public async Task Task_method_completes_the_caller()
    {
        ICounterGrain proxy = Proxy<ICounterGrain>(CounterId);
        CounterGrain grain = NewCounter();
        await grain.Add(3);

        Task call = proxy.Reset();
        GrainRequest request = _sink.Last;
        Assert.IsAssignableFrom<GrainVoidRequest>(request);
        Assert.Empty(RequestFields.Args(request));
        Assert.False(call.IsCompleted);

        await RunAsync(request, grain);

        await call;
        Assert.Equal(0, grain.Count);
    }

    [Fact]
    public async Task ValueTask_of_T_method_with_a_null_argument()
    {
        ICounterGrain proxy = Proxy<ICounterGrain>(CounterId);
        CounterGrain grain = NewCounter();

        ValueTask<string> call = proxy.Describe(null);
        GrainRequest request = _sink.Last;
        Assert.Equal(new object?[] { null }, RequestFields.Args(request));

        await RunAsync(request, grain);

        Assert.Equal("<none>:0", await call);
    }

    [Fact]
    public async Task ValueTask_method_completes_the_caller()
    {
        ICounterGrain proxy = Proxy<ICounterGrain>(CounterId);
        CounterGrain grain = NewCounter();

        ValueTask call = proxy.Touch();
        Assert.False(call.IsCompleted);

        await RunAsync(_sink.Last, grain);

        await call;
        Assert.Equal(1, grain.Count);
    }

    [Fact]
    public async Task One_way_method_returns_a_completed_task_and_still_invokes()
    {
        ICounterGrain proxy = Proxy<ICounterGrain>(CounterId);
        CounterGrain grain = NewCounter();

        Task call = proxy.Ping("hello");
        ValueTask valueCall = proxy.PingValue(42);

        Assert.True(call.IsCompletedSuccessfully);
        Assert.True(valueCall.IsCompletedSuccessfully);
        Assert.Equal(2, _sink.Sent.Count);
        GrainRequest ping = _sink.Sent[0].Request;
        GrainRequest pingValue = _sink.Sent[1].Request;
        Assert.IsAssignableFrom<GrainOneWayRequest>(ping);
        Assert.IsAssignableFrom<GrainOneWayRequest>(pingValue);
        Assert.Equal(GrainMethodOptions.OneWay, ping.Method.Options);
        Assert.True(ping.Method.IsOneWay);
        Assert.True(pingValue.Method.IsOneWay);
        Assert.Equal(new object?[] { "hello" }, RequestFields.Args(ping));

        await RunAsync(ping, grain);
        await RunAsync(pingValue, grain);

        Assert.Equal(new[] { "hello", "42" }, grain.Pings);
    }

    [Fact]
    public void ReadOnly_and_AlwaysInterleave_options()
    {
        ICounterGrain proxy = Proxy<ICounterGrain>(CounterId);

        _ = proxy.Get();
        _ = proxy.Move(new Address("Main", 1));

        Assert.Equal(GrainMethodOptions.ReadOnly, _sink.Sent[0].Request.Method.Options);
        Assert.Equal(GrainMethodOptions.AlwaysInterleave, _sink.Sent[1].Request.Method.Options);
        Assert.Equal(new object?[] { new Address("Main", 1) }, RequestFields.Args(_sink.Sent[1].Request));
    }

    [Fact]
    public async Task Record_argument_and_result()
    {
        ICounterGrain proxy = Proxy<ICounterGrain>(CounterId);
        CounterGrain grain = NewCounter();

        Task<Address> call = proxy.Move(new Address("Main", 1));
        await RunAsync(_sink.Last, grain);

        Assert.Equal(new Address("Main", 2), await call);
    }

    [Fact]
    public async Task Overloads_call_the_right_method()
    {
        ICounterGrain proxy = Proxy<ICounterGrain>(CounterId);
        CounterGrain grain = NewCounter();

        Task<string> one = proxy.Echo("ab");
        Task<string> two = proxy.Echo("ab", 3);
        Assert.Equal(new object?[] { "ab" }, RequestFields.Args(_sink.Sent[0].Request));
        Assert.Equal(new object?[] { "ab", 3 }, RequestFields.Args(_sink.Sent[1].Request));

        await RunAsync(_sink.Sent[0].Request, grain);
        await RunAsync(_sink.Sent[1].Request, grain);

        Assert.Equal("ab", await one);
        Assert.Equal("ababab", await two);
    }

    [Fact]
    public async Task Inherited_methods_share_the_base_interface_request()
    {
        IAdvancedCounterGrain advanced = Proxy<IAdvancedCounterGrain>(CounterId);
        ICounterGrain basic = Proxy<ICounterGrain>(CounterId);
        CounterGrain grain = NewCounter();

        Task<int> add = advanced.Add(2);
        _ = basic.Add(1);
        Task<long> multiply = advanced.Multiply(10, new Address("x", 4));

        Assert.Same(_sink.Sent[0].Request.Method, _sink.Sent[1].Request.Method);
        Assert.Equal(typeof(ICounterGrain).FullName, _sink.Sent[0].Request.Method.InterfaceName);
        Assert.Equal("IAdvancedCounterGrain.Multiply", _sink.Sent[2].Request.Method.DisplayName);

        await RunAsync(_sink.Sent[0].Request, grain);
        await RunAsync(_sink.Sent[2].Request, grain);

        Assert.Equal(2, await add);
        Assert.Equal(24L, await multiply);
    }

    [Fact]
    public async Task Same_named_interfaces_in_other_namespaces_get_their_own_proxy()
    {
        OtherCounter other = Proxy<OtherCounter>(new GrainId("grain", "o"));
        ICounterGrain counter = Proxy<ICounterGrain>(CounterId);

        Task<int> call = other.Add(21);
        _ = counter.Add(1);

        GrainMethodDescriptor otherMethod = _sink.Sent[0].Request.Method;
        GrainMethodDescriptor counterMethod = _sink.Sent[1].Request.Method;
        Assert.Equal(typeof(OtherCounter).FullName, otherMethod.InterfaceName);
        Assert.NotEqual(otherMethod.MethodId, counterMethod.MethodId);
        Assert.NotEqual(other.GetType(), counter.GetType());

        Samples.Other.Grain grain;
        using (ServiceProvider services = new ServiceCollection().BuildServiceProvider())
        using (GrainConstructionScope.Enter(new FakeGrainContext(new GrainId("grain", "o"), services)))
        {
            grain = new Samples.Other.Grain();
        }

        await RunAsync(_sink.Sent[0].Request, grain);
        Assert.Equal(42, await call);
    }

    [Fact]
    public async Task Grain_exceptions_reach_the_caller()
    {
        ICounterGrain proxy = Proxy<ICounterGrain>(CounterId);

        Task<int> call = proxy.Add(1);
        _sink.Last.CompleteFrom(Task.FromException<int>(new InvalidOperationException("boom")));

        InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(() => call);
        Assert.Equal("boom", error.Message);
    }

    [Fact]
    public void Proxies_are_grain_references_with_value_equality()
    {
        ICounterGrain a = Proxy<ICounterGrain>(CounterId);
        ICounterGrain b = Proxy<ICounterGrain>(CounterId);

        GrainReference reference = Assert.IsAssignableFrom<GrainReference>(a);
        Assert.Equal(CounterId, reference.GrainId);
        Assert.Same(_sink, reference.Sink);
        Assert.Equal(a, b);
    }

    [Fact]
    public void Create_request_makes_an_empty_request_of_the_same_method()
    {
        ICounterGrain proxy = Proxy<ICounterGrain>(CounterId);
        _ = proxy.Echo("x", 2);
        GrainRequest sent = _sink.Last;

        GrainRequest created = sent.Method.CreateRequest();

        Assert.Equal(sent.GetType(), created.GetType());
        Assert.Same(sent.Method, created.Method);
        Assert.Equal(new object?[] { null, 0 }, RequestFields.Args(created));
    }
}
