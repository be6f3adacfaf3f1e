using System.Text.Json;
using PresenceGrid.Matrix;
using PresenceGrid.Presence;

namespace PresenceGrid.Hosting;

/// <summary>
/// Synapse's <c>UserPresenceState</c> as JSON, the unit of the Synapse module endpoints (docs/api.md, "Synapse module
/// endpoints"): <c>{"user_id", "state", "last_active_ts", "last_federation_update_ts", "last_user_sync_ts",
/// "status_msg", "currently_active"}</c>. <c>user_id</c> and <c>state</c> are required; the rest default as in Synapse
/// (0, 0, 0, null, false).
/// </summary>
/// <remarks>
/// A local user's <c>state</c> and <c>status_msg</c> are checked as the grid checks a local change (busy only with
/// MSC3026 on; a status of at most 2048 UTF-8 bytes). A remote user's state may be any of the four presence values,
/// busy included, and its status is not limited, as for federation. Synapse would also carry any other non-empty string
/// for a remote user: the grid cannot represent one, so that item is refused (as <c>/v1/federation/incoming</c> does).
/// </remarks>
public static class SynapseStates
{
    /// <summary>The most states one request may carry (413 <c>M_TOO_LARGE</c> beyond).</summary>
    public const int MaxStatesPerRequest = 10_000;

    private static readonly string[] Fields =
        ["user_id", "state", "last_active_ts", "last_federation_update_ts", "last_user_sync_ts", "status_msg", "currently_active"];

    /// <summary>
    /// Reads the <c>states</c> list: each valid item in order; each invalid one is left out and listed in
    /// <paramref name="errors"/> (its index, errcode, and a message naming <c>states[i].field</c>).
    /// </summary>
    /// <param name="states">The <c>states</c> value.</param>
    /// <param name="options">The grid's options (which users are local, whether busy is on).</param>
    /// <param name="errors">Receives the rejected items.</param>
    /// <returns>The valid states, in their order.</returns>
    /// <exception cref="MatrixValidationException"><paramref name="states"/> is not a list (M_BAD_JSON).</exception>
    public static List<UserPresenceState> Read(JsonElement states, PresenceOptions options, List<FederationItemError> errors)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(errors);
        if (states.ValueKind != JsonValueKind.Array)
        {
            throw new MatrixValidationException(MatrixErrorCodes.BadJson, "states", "states: must be a list of presence states.");
        }

        var result = new List<UserPresenceState>(states.GetArrayLength());
        int index = 0;
        foreach (JsonElement item in states.EnumerateArray())
        {
            try
            {
                result.Add(ReadOne(item, $"states[{index}]", options));
            }
            catch (MatrixValidationException exception)
            {
                errors.Add(new FederationItemError(index, exception.ErrCode, exception.Message));
            }

            index++;
        }

        return result;
    }

    /// <summary>Writes a state as Synapse's <c>UserPresenceState</c>: all seven fields, <c>status_msg</c> null when unset.</summary>
    /// <param name="writer">The writer; the object is written as a value.</param>
    /// <param name="state">The state.</param>
    public static void Write(Utf8JsonWriter writer, UserPresenceState state)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(state);
        writer.WriteStartObject();
        writer.WriteString("user_id"u8, state.UserId.ToString());
        writer.WriteString("state"u8, PresenceStates.ToWireString(state.State));
        writer.WriteNumber("last_active_ts"u8, state.LastActiveTs);
        writer.WriteNumber("last_federation_update_ts"u8, state.LastFederationUpdateTs);
        writer.WriteNumber("last_user_sync_ts"u8, state.LastUserSyncTs);
        if (state.StatusMsg is null)
        {
            writer.WriteNull("status_msg"u8);
        }
        else
        {
            writer.WriteString("status_msg"u8, state.StatusMsg);
        }

        writer.WriteBoolean("currently_active"u8, state.CurrentlyActive);
        writer.WriteEndObject();
    }

    private static UserPresenceState ReadOne(JsonElement item, string at, PresenceOptions options)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            throw Bad(MatrixErrorCodes.BadJson, at, string.Empty, "must be an object (a UserPresenceState).");
        }

        foreach (JsonProperty property in item.EnumerateObject())
        {
            if (Array.IndexOf(Fields, property.Name) < 0)
            {
                throw Bad(MatrixErrorCodes.BadJson, at, property.Name, $"unknown field; allowed: {string.Join(", ", Fields)}.");
            }
        }

        string userText = RequiredString(item, at, "user_id");
        if (!UserId.TryParse(userText, out UserId? userId))
        {
            throw Bad(MatrixErrorCodes.InvalidParam, at, "user_id", $"is not a Matrix user id: '{userText}'.");
        }

        bool local = options.IsMine(userId);
        string stateText = RequiredString(item, at, "state");
        if (stateText.Length == 0)
        {
            throw Bad(MatrixErrorCodes.InvalidParam, at, "state", "must not be empty.");
        }

        if (!PresenceStates.TryParse(stateText, busyEnabled: !local || options.BusyEnabled, out PresenceState state))
        {
            string busy = !local || options.BusyEnabled ? ", " + PresenceStates.BusyString : string.Empty;
            string whose = local ? "a local user's state" : "the grid stores only the known presence values, so a remote user's state";
            throw Bad(MatrixErrorCodes.InvalidParam, at, "state", $"{whose} must be online, unavailable, offline{busy}; got '{stateText}'.");
        }

        string? statusMsg = null;
        if (item.TryGetProperty("status_msg"u8, out JsonElement status) && status.ValueKind != JsonValueKind.Null)
        {
            statusMsg = status.ValueKind == JsonValueKind.String ? status.GetString() : throw Bad(MatrixErrorCodes.BadJson, at, "status_msg", "must be a string or null.");
            if (local && !StatusMessageRules.IsValid(statusMsg))
            {
                throw Bad(MatrixErrorCodes.InvalidParam, at, "status_msg", $"must be at most {StatusMessageRules.MaxUtf8Bytes} bytes of UTF-8.");
            }
        }

        bool currentlyActive = false;
        if (item.TryGetProperty("currently_active"u8, out JsonElement active))
        {
            currentlyActive = active.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Bad(MatrixErrorCodes.BadJson, at, "currently_active", "must be a boolean."),
            };
        }

        return new UserPresenceState(
            userId,
            state,
            Timestamp(item, at, "last_active_ts"),
            Timestamp(item, at, "last_federation_update_ts"),
            Timestamp(item, at, "last_user_sync_ts"),
            statusMsg,
            currentlyActive);
    }

    private static string RequiredString(JsonElement item, string at, string field)
    {
        if (!item.TryGetProperty(field, out JsonElement value))
        {
            throw Bad(MatrixErrorCodes.BadJson, at, field, "is required.");
        }

        return value.ValueKind == JsonValueKind.String ? value.GetString()! : throw Bad(MatrixErrorCodes.BadJson, at, field, "must be a string.");
    }

    private static long Timestamp(JsonElement item, string at, string field)
    {
        if (!item.TryGetProperty(field, out JsonElement value))
        {
            return 0;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out long ms))
        {
            throw Bad(MatrixErrorCodes.BadJson, at, field, "must be a whole number of milliseconds since the epoch.");
        }

        return ms >= 0 ? ms : throw Bad(MatrixErrorCodes.InvalidParam, at, field, $"must not be negative; got {ms}.");
    }

    private static MatrixValidationException Bad(string errCode, string at, string field, string message)
    {
        string path = field.Length == 0 ? at : $"{at}.{field}";
        return new MatrixValidationException(errCode, path, $"{path}: {message}");
    }
}
