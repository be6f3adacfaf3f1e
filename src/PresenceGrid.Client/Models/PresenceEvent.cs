namespace PresenceGrid.Client;

/// <summary>A presence event delivered by sync or watch.</summary>
/// <param name="Type">The event type; <c>"m.presence"</c>.</param>
/// <param name="Sender">The user whose presence this is, for example <c>@alice:example.org</c>.</param>
/// <param name="Content">The presence content.</param>
public sealed record PresenceEvent(string Type, string Sender, PresenceContent Content);
