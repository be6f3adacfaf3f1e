using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Options;
using PresenceGrid.Persistence;

namespace PresenceGrid.Runtime.Persistence;

/// <summary>Turns grain state into bytes and back, for storage providers.</summary>
public interface IGrainStateSerializer
{
    /// <summary>Serializes <paramref name="state"/>.</summary>
    /// <typeparam name="TState">The state type.</typeparam>
    /// <param name="state">The state.</param>
    /// <returns>The bytes.</returns>
    byte[] Serialize<TState>(TState state);

    /// <summary>Deserializes state written by <see cref="Serialize{TState}"/>.</summary>
    /// <typeparam name="TState">The state type.</typeparam>
    /// <param name="data">The bytes.</param>
    /// <returns>The state.</returns>
    TState Deserialize<TState>(ReadOnlySpan<byte> data);
}

/// <summary>The default grain state serializer: System.Text.Json with the configured type info.</summary>
internal sealed class JsonGrainStateSerializer : IGrainStateSerializer
{
    private readonly JsonSerializerOptions _options;

    public JsonGrainStateSerializer(IOptions<GrainStateSerializerOptions> options)
    {
        JsonSerializerOptions json = options.Value.JsonOptions;
        if (!json.IsReadOnly)
        {
            json.TypeInfoResolverChain.Add(new DefaultJsonTypeInfoResolver());
            json.MakeReadOnly();
        }

        _options = json;
    }

    public byte[] Serialize<TState>(TState state) =>
        JsonSerializer.SerializeToUtf8Bytes(state, (JsonTypeInfo<TState>)_options.GetTypeInfo(typeof(TState)));

    public TState Deserialize<TState>(ReadOnlySpan<byte> data) =>
        JsonSerializer.Deserialize(data, (JsonTypeInfo<TState>)_options.GetTypeInfo(typeof(TState)))!;
}
