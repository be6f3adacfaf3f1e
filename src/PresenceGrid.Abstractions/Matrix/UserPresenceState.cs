using System.Text.Json;

namespace PresenceGrid.Matrix;

/// <summary>
/// The committed presence of one user (Synapse <c>UserPresenceState</c>). Immutable; equality compares all seven fields.
/// Copy with <c>with { ... }</c> (Synapse's <c>copy_and_replace</c>).
/// </summary>
/// <param name="UserId">The full MXID.</param>
/// <param name="State">The presence value.</param>
/// <param name="LastActiveTs">Milliseconds since the epoch of the last "pro-active" activity; 0 means unknown.</param>
/// <param name="LastFederationUpdateTs">Local users: when the state was last sent or pinged over federation.
/// Remote users: when the last update was received.</param>
/// <param name="LastUserSyncTs">Milliseconds since the epoch of the user's last sync start or end.</param>
/// <param name="StatusMsg">The status message, or <see langword="null"/>.</param>
/// <param name="CurrentlyActive">Whether the user is currently active; only meaningful (and only serialised) when online.</param>
public sealed record UserPresenceState(
    UserId UserId,
    PresenceState State,
    long LastActiveTs,
    long LastFederationUpdateTs,
    long LastUserSyncTs,
    string? StatusMsg,
    bool CurrentlyActive)
{
    /// <summary>The <c>type</c> of presence events.</summary>
    public const string EventType = "m.presence";

    /// <summary>
    /// Hashes the user, the presence value and the last activity: equal states hash alike, and sets of states
    /// (a routing module's result) do not hash every field, status message included, per state.
    /// </summary>
    /// <returns>The hash code.</returns>
    public override int GetHashCode() => HashCode.Combine(UserId, (int)State, LastActiveTs); // (int): no boxed enum per hash

    /// <summary>The state of a user we know nothing about: offline, 0, 0, 0, null, false.</summary>
    /// <param name="userId">The user.</param>
    /// <returns>The default state.</returns>
    public static UserPresenceState Default(UserId userId) =>
        new(userId, PresenceState.Offline, 0, 0, 0, null, false);

    /// <summary>
    /// Writes the <c>m.presence</c> content object (Synapse <c>format_user_presence_state</c>):
    /// <c>presence</c> always; <c>user_id</c> only when <paramref name="includeUserId"/> (federation EDUs, legacy
    /// <c>/events</c>); <c>last_active_ago = now - last_active_ts</c> only when <c>last_active_ts</c> is non-zero;
    /// <c>status_msg</c> only when it is a non-empty string; <c>currently_active</c> only when the state is online.
    /// </summary>
    /// <param name="writer">The JSON writer; the object is written as a value.</param>
    /// <param name="now">Serialisation time in ms since the epoch (queueing time therefore counts).</param>
    /// <param name="includeUserId">Whether to include <c>user_id</c>.</param>
    public void WriteContent(Utf8JsonWriter writer, long now, bool includeUserId = false)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteString("presence"u8, PresenceStates.ToWireString(State));
        if (includeUserId)
        {
            writer.WriteString("user_id"u8, UserId.ToString());
        }

        if (LastActiveTs != 0)
        {
            writer.WriteNumber("last_active_ago"u8, now - LastActiveTs);
        }

        if (!string.IsNullOrEmpty(StatusMsg))
        {
            writer.WriteString("status_msg"u8, StatusMsg);
        }

        if (State == PresenceState.Online)
        {
            writer.WriteBoolean("currently_active"u8, CurrentlyActive);
        }

        writer.WriteEndObject();
    }

    /// <summary>
    /// Writes the <c>/sync</c> event wrapper <c>{"type":"m.presence","sender":user_id,"content":{...}}</c>
    /// (Synapse <c>SyncRestServlet.encode_presence</c>); the content omits <c>user_id</c>.
    /// </summary>
    /// <param name="writer">The JSON writer.</param>
    /// <param name="now">Serialisation time in ms since the epoch.</param>
    public void WriteSyncEvent(Utf8JsonWriter writer, long now)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteString("type"u8, EventType);
        writer.WriteString("sender"u8, UserId.ToString());
        writer.WritePropertyName("content"u8);
        WriteContent(writer, now);
        writer.WriteEndObject();
    }

    /// <summary>Serialises the content object (see <see cref="WriteContent"/>) to UTF-8 JSON.</summary>
    /// <param name="now">Serialisation time in ms since the epoch.</param>
    /// <param name="includeUserId">Whether to include <c>user_id</c>.</param>
    /// <returns>The UTF-8 encoded JSON object.</returns>
    public byte[] ToContentUtf8(long now, bool includeUserId = false) =>
        JsonBytes.ToUtf8Bytes((State: this, now, includeUserId), static (writer, s) => s.State.WriteContent(writer, s.now, s.includeUserId));
}
