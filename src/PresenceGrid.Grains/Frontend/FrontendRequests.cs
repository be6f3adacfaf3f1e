using PresenceGrid.Matrix;

namespace PresenceGrid.Frontend;

/// <summary>The checks every frontend makes before calling <see cref="Hosting.PresenceService"/>, with the same messages.</summary>
internal static class FrontendRequests
{
    /// <summary>A presence read names who asks.</summary>
    /// <param name="requester">The requester, as given.</param>
    /// <returns>The requester.</returns>
    /// <exception cref="MatrixValidationException">It is missing.</exception>
    public static string RequireRequester(string? requester) =>
        string.IsNullOrEmpty(requester)
            ? throw new MatrixValidationException(MatrixErrorCodes.InvalidParam, "requester", "requester: is required (the user asking).")
            : requester;

    /// <summary>A user's presence for <c>set_presence_for_users</c>: any presence value, busy included.</summary>
    /// <param name="userId">The user (the field is <c>users.{userId}.presence</c>).</param>
    /// <param name="presence">The presence's wire string.</param>
    /// <returns>The presence.</returns>
    /// <exception cref="MatrixValidationException">It is not a presence value.</exception>
    public static PresenceState ParseModulePresence(string userId, string presence) =>
        PresenceStates.TryParse(presence, busyEnabled: true, out PresenceState state)
            ? state
            : throw new MatrixValidationException(MatrixErrorCodes.InvalidParam, $"users.{userId}.presence", $"users.{userId}.presence: is not a presence value: '{presence}'.");
}
