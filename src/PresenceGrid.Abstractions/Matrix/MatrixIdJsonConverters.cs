using System.Text.Json;
using System.Text.Json.Serialization;

namespace PresenceGrid.Matrix;

/// <summary>Writes a <see cref="UserId"/> as its string form (grain calls between silos, stored state).</summary>
public sealed class UserIdJsonConverter : JsonConverter<UserId>
{
    /// <inheritdoc />
    public override UserId Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => UserId.Parse(reader.GetString()!);

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, UserId value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}

/// <summary>Writes a <see cref="ServerName"/> as its string form.</summary>
public sealed class ServerNameJsonConverter : JsonConverter<ServerName>
{
    /// <inheritdoc />
    public override ServerName Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => ServerName.Parse(reader.GetString()!);

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, ServerName value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}

/// <summary>Writes a <see cref="RoomId"/> as its string form.</summary>
public sealed class RoomIdJsonConverter : JsonConverter<RoomId>
{
    /// <inheritdoc />
    public override RoomId Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => RoomId.Parse(reader.GetString()!);

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, RoomId value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}
