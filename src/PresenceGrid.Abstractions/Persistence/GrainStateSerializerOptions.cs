using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace PresenceGrid.Persistence;

/// <summary>Options of the JSON grain state serializer.</summary>
public sealed class GrainStateSerializerOptions
{
    /// <summary>
    /// The JSON options. Grain assemblies insert their source-generated contexts into
    /// <see cref="JsonSerializerOptions.TypeInfoResolverChain"/> so state is (de)serialized without
    /// reflection; the default resolver (reflection) is the fallback.
    /// </summary>
    public JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.General)
    {
        TypeInfoResolver = JsonTypeInfoResolver.Combine(),
    };
}

