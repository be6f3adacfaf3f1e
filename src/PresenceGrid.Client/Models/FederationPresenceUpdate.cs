namespace PresenceGrid.Client;

/// <summary>One item of an <c>m.presence</c> EDU's <c>push</c> list (incoming or outgoing federation).</summary>
/// <param name="UserId">The user whose presence changed.</param>
/// <param name="Presence">The presence state.</param>
/// <param name="LastActiveAgo">Milliseconds since the user was last active, if known.</param>
/// <param name="StatusMsg">The status message, if any.</param>
/// <param name="CurrentlyActive">Whether the user is currently active, if known.</param>
public sealed record FederationPresenceUpdate(
    string UserId,
    PresenceState Presence,
    long? LastActiveAgo = null,
    string? StatusMsg = null,
    bool? CurrentlyActive = null);
