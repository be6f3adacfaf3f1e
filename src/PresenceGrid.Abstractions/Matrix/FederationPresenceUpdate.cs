using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace PresenceGrid.Matrix;

/// <summary>
/// One validated item of the <c>push</c> array of an incoming <c>m.presence</c> EDU.
/// </summary>
/// <remarks>
/// Synapse (<c>PresenceHandler.incoming_presence</c>) skips items without <c>user_id</c> or with a missing or empty
/// <c>presence</c>, and otherwise trusts the types. This parser validates every field and names the bad one in a
/// <see cref="MatrixValidationException"/>; the caller skips the item, as Synapse does. Deliberate differences:
/// <list type="bullet">
/// <item><c>presence</c> must be one of the four known values (Synapse stores any non-empty string); busy is accepted
/// from federation whatever the local MSC3026 setting, because it is the remote server's state.</item>
/// <item><c>last_active_ago</c> must be a non-negative integer when present; <c>null</c> counts as absent.</item>
/// <item><c>status_msg</c> must be a string or <c>null</c>; <c>currently_active</c> a boolean or <c>null</c>.</item>
/// <item>Unknown keys are ignored. The status length is not limited here (Synapse does not limit it either).</item>
/// </list>
/// </remarks>
/// <param name="UserId">The remote user the item is about.</param>
/// <param name="State">The presence value.</param>
/// <param name="LastActiveAgo">Milliseconds since the user was last active, or <see langword="null"/> when absent.</param>
/// <param name="StatusMsg">The status message, or <see langword="null"/> when absent or null.</param>
/// <param name="CurrentlyActive">The <c>currently_active</c> flag; <see langword="false"/> when absent.</param>
public sealed record FederationPresenceUpdate(
    UserId UserId,
    PresenceState State,
    long? LastActiveAgo,
    string? StatusMsg,
    bool CurrentlyActive)
{
    /// <summary>Parses one <c>push</c> item.</summary>
    /// <param name="item">The JSON item.</param>
    /// <returns>The validated update.</returns>
    /// <exception cref="MatrixValidationException">A field is missing, has the wrong type or an invalid value; <see cref="MatrixValidationException.Field"/> names it.</exception>
    public static FederationPresenceUpdate Parse(JsonElement item)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            throw new MatrixValidationException(MatrixErrorCodes.BadJson, "push", "Each item of 'push' must be an object.");
        }

        if (!item.TryGetProperty("user_id"u8, out var userIdElement) || userIdElement.ValueKind == JsonValueKind.Null)
        {
            throw new MatrixValidationException(MatrixErrorCodes.MissingParam, "user_id", "Missing 'user_id'.");
        }

        if (userIdElement.ValueKind != JsonValueKind.String)
        {
            throw new MatrixValidationException(MatrixErrorCodes.BadJson, "user_id", "'user_id' must be a string.");
        }

        var userId = UserId.Parse(userIdElement.GetString()!, "user_id");

        if (!item.TryGetProperty("presence"u8, out var presenceElement) || presenceElement.ValueKind == JsonValueKind.Null)
        {
            throw new MatrixValidationException(MatrixErrorCodes.MissingParam, "presence", "Missing 'presence'.");
        }

        if (presenceElement.ValueKind != JsonValueKind.String)
        {
            throw new MatrixValidationException(MatrixErrorCodes.BadJson, "presence", "'presence' must be a string.");
        }

        var presenceText = presenceElement.GetString();
        if (string.IsNullOrEmpty(presenceText))
        {
            throw new MatrixValidationException(MatrixErrorCodes.MissingParam, "presence", "'presence' is empty.");
        }

        if (!PresenceStates.TryParse(presenceText, busyEnabled: true, out var state))
        {
            throw new MatrixValidationException(MatrixErrorCodes.InvalidParam, "presence", "'presence' is not a known presence value.");
        }

        long? lastActiveAgo = null;
        if (item.TryGetProperty("last_active_ago"u8, out var agoElement) && agoElement.ValueKind != JsonValueKind.Null)
        {
            if (agoElement.ValueKind != JsonValueKind.Number || !agoElement.TryGetInt64(out var ago))
            {
                throw new MatrixValidationException(MatrixErrorCodes.BadJson, "last_active_ago", "'last_active_ago' must be an integer.");
            }

            if (ago < 0)
            {
                throw new MatrixValidationException(MatrixErrorCodes.InvalidParam, "last_active_ago", "'last_active_ago' must not be negative.");
            }

            lastActiveAgo = ago;
        }

        string? statusMsg = null;
        if (item.TryGetProperty("status_msg"u8, out var statusElement) && statusElement.ValueKind != JsonValueKind.Null)
        {
            if (statusElement.ValueKind != JsonValueKind.String)
            {
                throw new MatrixValidationException(MatrixErrorCodes.BadJson, "status_msg", "'status_msg' must be a string.");
            }

            statusMsg = statusElement.GetString();
        }

        var currentlyActive = false;
        if (item.TryGetProperty("currently_active"u8, out var activeElement) && activeElement.ValueKind != JsonValueKind.Null)
        {
            currentlyActive = activeElement.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw new MatrixValidationException(MatrixErrorCodes.BadJson, "currently_active", "'currently_active' must be a boolean."),
            };
        }

        return new FederationPresenceUpdate(userId, state, lastActiveAgo, statusMsg, currentlyActive);
    }

    /// <summary>Parses one <c>push</c> item without throwing.</summary>
    /// <param name="item">The JSON item.</param>
    /// <param name="update">The validated update when the result is <see langword="true"/>.</param>
    /// <param name="error">The validation error when the result is <see langword="false"/>.</param>
    /// <returns><see langword="true"/> when the item is valid.</returns>
    public static bool TryParse(
        JsonElement item,
        [NotNullWhen(true)] out FederationPresenceUpdate? update,
        [NotNullWhen(false)] out MatrixValidationException? error)
    {
        try
        {
            update = Parse(item);
            error = null;
            return true;
        }
        catch (MatrixValidationException e)
        {
            update = null;
            error = e;
            return false;
        }
    }

    /// <summary>
    /// Whether the item may be accepted from <paramref name="origin"/>: the user's server must be exactly the origin
    /// (Synapse compares the strings). Items failing this check are ignored.
    /// </summary>
    /// <param name="origin">The sending server.</param>
    /// <returns><see langword="true"/> when the user belongs to the origin server.</returns>
    public bool IsFrom(ServerName origin) => UserId.Server.Equals(origin);

    /// <summary>
    /// Builds the new remote state from the previous one (§5 "Incoming"): state as given,
    /// <c>last_federation_update_ts = now</c>, <c>last_active_ts = now - last_active_ago</c> when given (else unchanged),
    /// <c>status_msg</c> as given or null, <c>currently_active</c> as given or false. <c>last_user_sync_ts</c> is kept.
    /// </summary>
    /// <param name="previous">The current state of that user (or its default).</param>
    /// <param name="now">Receive time in ms since the epoch.</param>
    /// <returns>The state to pass to the remote update path.</returns>
    public UserPresenceState ApplyTo(UserPresenceState previous, long now)
    {
        ArgumentNullException.ThrowIfNull(previous);
        return previous with
        {
            State = State,
            LastFederationUpdateTs = now,
            LastActiveTs = LastActiveAgo is { } ago ? now - ago : previous.LastActiveTs,
            StatusMsg = StatusMsg,
            CurrentlyActive = CurrentlyActive,
        };
    }
}
