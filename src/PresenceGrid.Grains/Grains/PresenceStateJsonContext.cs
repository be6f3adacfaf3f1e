using System.Text.Json.Serialization;

namespace PresenceGrid.Grains;

/// <summary>Source-generated JSON for the presence grains' persistent state: no reflection when state is written.</summary>
[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.General)]
[JsonSerializable(typeof(PresenceRecord))]
[JsonSerializable(typeof(RoomRecord))]
internal sealed partial class PresenceStateJsonContext : JsonSerializerContext;
