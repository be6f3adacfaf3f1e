namespace PresenceGrid.Client;

/// <summary>The presence to set for one user through <c>POST /v1/modules/set_presence_for_users</c>.</summary>
/// <param name="Presence">The presence state.</param>
/// <param name="StatusMsg">The status message, or <see langword="null"/> to send none.</param>
public sealed record UserPresenceUpdate(PresenceState Presence, string? StatusMsg = null);
