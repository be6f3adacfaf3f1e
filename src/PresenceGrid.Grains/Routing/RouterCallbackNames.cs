namespace PresenceGrid.Routing;

/// <summary>Callback names as used in the <c>callback</c> metric tag and in logs (Synapse's names).</summary>
internal static class RouterCallbackNames
{
    public const string GetUsersForStates = "get_users_for_states";
    public const string GetInterestedUsers = "get_interested_users";
    public const string ReplaceRoomRecipients = "replace_room_recipients";
}
