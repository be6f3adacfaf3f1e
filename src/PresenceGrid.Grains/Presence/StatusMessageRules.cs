using System.Text;
using PresenceGrid.Matrix;

namespace PresenceGrid.Presence;

/// <summary>
/// <c>status_msg</c> rules (reference §2.3, §2.7, §6), applied by <see cref="PresenceOperations"/>:
/// <list type="bullet">
/// <item>An explicit set (PUT, module, device-less callers) replaces the status; omitting it clears it to null.</item>
/// <item>Sync-driven updates (<see cref="PresenceOperations.StartSyncing"/>), bumps and stop-syncing never touch it.</item>
/// <item>Timeouts (idle, offline, remote expiry) never touch it: an offline user keeps their status.</item>
/// <item>An empty string is stored as given (it differs from null, so changing null to "" notifies) but is not serialised.</item>
/// <item>Length: at most <see cref="MaxUtf8Bytes"/> UTF-8 bytes for local input. The Matrix spec and Synapse set no
/// limit (§6 is silent); 2048 is PresenceGrid's choice. Federation input is not limited (as in Synapse).</item>
/// </list>
/// </summary>
internal static class StatusMessageRules
{
    /// <summary>Maximum local status length in UTF-8 bytes (PresenceGrid's choice; see the class remarks).</summary>
    public const int MaxUtf8Bytes = PresenceStatusRequest.MaxStatusMsgUtf8Bytes;

    /// <summary>Whether a status is acceptable from a local client or module.</summary>
    /// <param name="statusMsg">The status (null clears).</param>
    /// <returns><see langword="true"/> when within the limit.</returns>
    public static bool IsValid(string? statusMsg) =>
        statusMsg is null || Encoding.UTF8.GetByteCount(statusMsg) <= MaxUtf8Bytes;

    /// <summary>Throws when the status exceeds the limit.</summary>
    /// <param name="statusMsg">The status.</param>
    /// <exception cref="MatrixValidationException">Too long (<c>M_INVALID_PARAM</c>, field <c>status_msg</c>).</exception>
    public static void Validate(string? statusMsg)
    {
        if (!IsValid(statusMsg))
        {
            throw new MatrixValidationException(
                MatrixErrorCodes.InvalidParam,
                "status_msg",
                $"status_msg must be at most {MaxUtf8Bytes} bytes of UTF-8.");
        }
    }
}
