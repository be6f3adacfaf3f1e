namespace PresenceGrid.Client;

/// <summary>The content of an <c>m.presence</c> event, as returned by <c>GET /v1/presence/{userId}/status</c> and in sync batches.</summary>
/// <param name="Presence">The presence state.</param>
/// <param name="LastActiveAgo">Milliseconds since the user was last active, when the server reports it.</param>
/// <param name="StatusMsg">The status message, when one is set.</param>
/// <param name="CurrentlyActive">Whether the user is currently active, when the server reports it.</param>
public sealed record PresenceContent(
    PresenceState Presence,
    long? LastActiveAgo = null,
    string? StatusMsg = null,
    bool? CurrentlyActive = null);
