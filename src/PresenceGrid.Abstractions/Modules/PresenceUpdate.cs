using PresenceGrid.Matrix;

namespace PresenceGrid.Modules;

/// <summary>A presence value and status message to force onto a user with <see cref="IModuleApi.SetPresenceForUsersAsync"/>.</summary>
/// <param name="State">The new presence value.</param>
/// <param name="StatusMsg">The new status message; <see langword="null"/> clears it.</param>
public sealed record PresenceUpdate(PresenceState State, string? StatusMsg);
