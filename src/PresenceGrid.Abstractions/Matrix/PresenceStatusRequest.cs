using System.Text;
using System.Text.Json;

namespace PresenceGrid.Matrix;

/// <summary>
/// The body of PUT <c>/_matrix/client/v3/presence/{userId}/status</c>.
/// </summary>
/// <param name="Presence">The requested presence.</param>
/// <param name="StatusMsg">The requested status; <see langword="null"/> when the key was omitted, which clears the status.</param>
public sealed record PresenceStatusRequest(PresenceState Presence, string? StatusMsg)
{
    /// <summary>
    /// Maximum length of <c>status_msg</c> in UTF-8 bytes. Neither the Matrix spec nor Synapse sets a limit (§6 of our
    /// reference is silent); PresenceGrid picks 2048 bytes to bound storage and fan-out size.
    /// </summary>
    public const int MaxStatusMsgUtf8Bytes = 2048;

    /// <summary>
    /// Parses the body the way Synapse's <c>PresenceStatusRestServlet.on_PUT</c> does, then validates the presence value
    /// (Synapse <c>set_state</c>):
    /// <list type="bullet">
    /// <item>the body must be an object with a <c>presence</c> key, otherwise <c>M_UNKNOWN</c> "Unable to parse state";</item>
    /// <item><c>status_msg</c>, if present, must be a string (<c>null</c> too is refused): <c>M_UNKNOWN</c> "status_msg must be a string.";</item>
    /// <item>any other key: <c>M_UNKNOWN</c> "Unable to parse state";</item>
    /// <item>an unknown presence (or busy when MSC3026 is off): <c>M_UNKNOWN</c> "Invalid presence state";</item>
    /// <item>PresenceGrid only: a status longer than <see cref="MaxStatusMsgUtf8Bytes"/> bytes: <c>M_INVALID_PARAM</c>.</item>
    /// </list>
    /// The caller must skip this parse (and answer 200) when presence is disabled or untracked, as Synapse does.
    /// </summary>
    /// <param name="body">The request body.</param>
    /// <param name="busyEnabled">Whether MSC3026 busy is enabled.</param>
    /// <returns>The parsed request.</returns>
    /// <exception cref="MatrixValidationException">The body is invalid; <see cref="MatrixValidationException.Field"/> names the field.</exception>
    public static PresenceStatusRequest Parse(JsonElement body, bool busyEnabled)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw new MatrixValidationException(MatrixErrorCodes.Unknown, string.Empty, "Unable to parse state");
        }

        JsonElement? presence = null;
        string? statusMsg = null;
        foreach (var property in body.EnumerateObject())
        {
            if (property.NameEquals("presence"u8))
            {
                presence = property.Value;
            }
            else if (property.NameEquals("status_msg"u8))
            {
                if (property.Value.ValueKind != JsonValueKind.String)
                {
                    throw new MatrixValidationException(MatrixErrorCodes.Unknown, "status_msg", "status_msg must be a string.");
                }

                statusMsg = property.Value.GetString();
            }
            else
            {
                throw new MatrixValidationException(MatrixErrorCodes.Unknown, property.Name, "Unable to parse state");
            }
        }

        if (presence is null)
        {
            throw new MatrixValidationException(MatrixErrorCodes.Unknown, "presence", "Unable to parse state");
        }

        var presenceText = presence.Value.ValueKind == JsonValueKind.String ? presence.Value.GetString() : null;
        if (!PresenceStates.TryParse(presenceText, busyEnabled, out var state))
        {
            throw new MatrixValidationException(MatrixErrorCodes.Unknown, "presence", "Invalid presence state");
        }

        if (statusMsg is not null && Encoding.UTF8.GetByteCount(statusMsg) > MaxStatusMsgUtf8Bytes)
        {
            throw new MatrixValidationException(
                MatrixErrorCodes.InvalidParam,
                "status_msg",
                $"status_msg must be at most {MaxStatusMsgUtf8Bytes} bytes of UTF-8.");
        }

        return new PresenceStatusRequest(state, statusMsg);
    }
}
