using System.Text.Json.Serialization;

namespace PresenceGrid.Grains;

/// <summary>Source-generated JSON for the presence grains' persistent state: no reflection when state is written.</summary>
[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.General)]
[JsonSerializable(typeof(PresenceRecord))]
[JsonSerializable(typeof(RoomRecord))]
internal sealed partial class PresenceStateJsonContext : JsonSerializerContext;

/// <summary>Source-generated JSON for the presence grains' call arguments and results when calls cross silos.</summary>
[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.General)]
[JsonSerializable(typeof(Matrix.UserPresenceState))]
[JsonSerializable(typeof(IReadOnlyList<Matrix.UserPresenceState>))]
[JsonSerializable(typeof(Matrix.FederationPresenceUpdate))]
[JsonSerializable(typeof(Matrix.PresenceState))]
[JsonSerializable(typeof(PresenceCommandResult))]
[JsonSerializable(typeof(IReadOnlyDictionary<string, string>))]
[JsonSerializable(typeof(IReadOnlyList<Federation.PresenceEdu>))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(int))]
internal sealed partial class PresenceCallJsonContext : JsonSerializerContext;
