using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using PresenceGrid.CodeGen.Tests.Samples;
using PresenceGrid.Invocation;
using Xunit;

namespace PresenceGrid.CodeGen.Tests;

public sealed class JsonTests
{
    private static readonly JsonSerializerOptions Options = new() { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };

    private readonly FakeSink _sink = new();

    private IAdvancedCounterGrain Proxy() =>
        GrainTypeManifest.GrainInterface<IAdvancedCounterGrain>.ProxyFactory!(new GrainId("counter", "json"), _sink);

    private static byte[] Write(GrainRequest request)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            request.WriteArguments(writer, Options);
        }

        return stream.ToArray();
    }

    private static GrainRequest Read(GrainMethodDescriptor method, byte[] json)
    {
        GrainRequest copy = method.CreateRequest();
        var reader = new Utf8JsonReader(json);
        copy.ReadArguments(ref reader, Options);
        return copy;
    }

    private static GrainRequest RoundTrip(GrainRequest request) => Read(request.Method, Write(request));

    [Fact]
    public void Arguments_round_trip_through_json()
    {
        IAdvancedCounterGrain proxy = Proxy();
        _ = proxy.Echo("hi", 3);
        _ = proxy.Move(new Address("Main", 9));
        _ = proxy.Describe(null).AsTask();
        _ = proxy.Describe("p").AsTask();
        _ = proxy.Multiply(long.MaxValue, null);
        _ = proxy.Multiply(-2, new Address("y", 1));
        _ = proxy.Ping("one way");

        foreach ((_, GrainRequest request) in _sink.Sent)
        {
            GrainRequest copy = RoundTrip(request);
            Assert.Equal(request.GetType(), copy.GetType());
            Assert.Equal(RequestFields.Args(request), RequestFields.Args(copy));
        }
    }

    [Fact]
    public void Arguments_are_written_as_an_array()
    {
        _ = Proxy().Echo("hi", 3);

        Assert.Equal("[\"hi\",3]", System.Text.Encoding.UTF8.GetString(Write(_sink.Last)));
    }

    [Fact]
    public void No_arguments_round_trip_as_an_empty_array()
    {
        _ = Proxy().Reset();

        byte[] json = Write(_sink.Last);

        Assert.Equal("[]", System.Text.Encoding.UTF8.GetString(json));
        Assert.Empty(RequestFields.Args(Read(_sink.Last.Method, json)));
    }

    [Fact]
    public void Too_many_or_too_few_arguments_are_rejected()
    {
        _ = Proxy().Echo("hi");
        GrainMethodDescriptor echo = _sink.Last.Method;

        Assert.Throws<JsonException>(() => Read(echo, "[\"a\",\"b\"]"u8.ToArray()));
        Assert.Throws<JsonException>(() => Read(echo, "[]"u8.ToArray()));
    }
}
