using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace PresenceGrid.Invocation;

/// <summary>How grain call arguments and results are written when a call crosses silos.</summary>
public sealed class GrainCallSerializerOptions
{
    /// <summary>
    /// The JSON options. Grain assemblies insert source-generated contexts for the types their
    /// interfaces use into <see cref="JsonSerializerOptions.TypeInfoResolverChain"/>; other types
    /// fall back to reflection metadata, built once per type.
    /// </summary>
    public JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.General)
    {
        TypeInfoResolver = JsonTypeInfoResolver.Combine(),
    };
}
