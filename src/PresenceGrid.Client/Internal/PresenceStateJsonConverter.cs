using System.Text.Json;
using System.Text.Json.Serialization;

namespace PresenceGrid.Client.Internal;

/// <summary>Reads and writes <see cref="PresenceState"/> as its JSON string value.</summary>
internal sealed class PresenceStateJsonConverter : JsonConverter<PresenceState>
{
    public override PresenceState Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"Expected a presence string, found {reader.TokenType}.");
        }

        var value = reader.GetString();
        return string.IsNullOrWhiteSpace(value) ? throw new JsonException("A presence value must not be empty.") : new PresenceState(value);
    }

    public override void Write(Utf8JsonWriter writer, PresenceState value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.Value);
}
