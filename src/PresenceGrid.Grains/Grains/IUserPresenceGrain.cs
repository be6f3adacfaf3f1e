using Orleans.Concurrency;
using PresenceGrid.Matrix;

namespace PresenceGrid.Grains;

/// <summary>The outcome of a presence command.</summary>
/// <param name="Outcome">What happened.</param>
/// <param name="RetryAfterMs">For <see cref="PresenceCommandOutcome.RateLimited"/>: when to retry.</param>
[GenerateSerializer, Immutable, Alias("pg.PresenceCommandResult")]
public sealed record PresenceCommandResult([property: Id(0)] PresenceCommandOutcome Outcome, [property: Id(1)] long RetryAfterMs = 0)
{
    /// <summary>Applied.</summary>
    public static PresenceCommandResult Applied { get; } = new(PresenceCommandOutcome.Applied);

    /// <summary>Accepted and ignored (presence is disabled or untracked).</summary>
    public static PresenceCommandResult Ignored { get; } = new(PresenceCommandOutcome.Ignored);
}

/// <summary>What a presence command did.</summary>
[GenerateSerializer, Alias("pg.PresenceCommandOutcome")]
public enum PresenceCommandOutcome
{
    /// <summary>Applied.</summary>
    Applied,

    /// <summary>Accepted and ignored (presence disabled or untracked).</summary>
    Ignored,

    /// <summary>Refused by <c>rc_presence</c>; nothing changed (HTTP 429).</summary>
    RateLimited,
}

/// <summary>
/// One user's presence (key: the MXID): the per-device state machine with its timers, for local
/// users; the federation-fed state for remote users. Changes that notify are published to the
/// fan-out without waiting, so two users interested in each other never wait on each other.
/// </summary>
[Alias("pg.IUserPresenceGrain")]
public interface IUserPresenceGrain : IGrainWithStringKey
{
    /// <summary>PUT status: sets presence and status message (rate limited by <c>rc_presence</c>).</summary>
    /// <param name="deviceId">The device, or null.</param>
    /// <param name="presence">The presence.</param>
    /// <param name="statusMsg">The status message; null clears it.</param>
    /// <returns>Applied, ignored or rate limited.</returns>
    Task<PresenceCommandResult> SetPresence(string? deviceId, PresenceState presence, string? statusMsg);

    /// <summary>
    /// PUT status while presence is disabled or untracked: takes a token of the PUT bucket and changes nothing. As in
    /// Synapse, such a PUT is rate limited and its presence and status are never validated.
    /// </summary>
    /// <returns>Ignored, or rate limited.</returns>
    Task<PresenceCommandResult> IgnoredPut();

    /// <summary>A device starts syncing with <c>set_presence</c> (offline: does not affect presence).</summary>
    /// <param name="deviceId">The device.</param>
    /// <param name="setPresence">The requested presence.</param>
    /// <returns>A task.</returns>
    Task StartSyncing(string? deviceId, PresenceState setPresence);

    /// <summary>A device's sync is still open: renews its syncing lease (not activity).</summary>
    /// <param name="deviceId">The device.</param>
    /// <returns>A task.</returns>
    Task KeepAlive(string? deviceId);

    /// <summary>A device stopped syncing.</summary>
    /// <param name="deviceId">The device.</param>
    /// <returns>A task.</returns>
    Task StopSyncing(string? deviceId);

    /// <summary>The user was active on a device (bumps <c>last_active</c>).</summary>
    /// <param name="deviceId">The device.</param>
    /// <returns>A task.</returns>
    Task BumpActive(string? deviceId);

    /// <summary>The current state.</summary>
    /// <returns>The state.</returns>
    [ReadOnly]
    Task<UserPresenceState> GetPresence();

    /// <summary>Applies a validated <c>m.presence</c> item from the user's own server (remote users only).</summary>
    /// <param name="update">The update.</param>
    /// <returns>A task.</returns>
    Task ApplyFederationUpdate(FederationPresenceUpdate update);

    /// <summary><c>set_presence_for_users</c> from a module: forced, no device, no rate limit.</summary>
    /// <param name="presence">The presence.</param>
    /// <param name="statusMsg">The status message.</param>
    /// <returns>A task.</returns>
    Task SetPresenceFromModule(PresenceState presence, string? statusMsg);

    /// <summary>
    /// A state mirrored from the homeserver that owns it (<c>POST /v1/ingest/states</c>): recorded as given, all seven
    /// fields, with no grid timers; readers are notified when what they see changes; the same state again changes
    /// nothing; not federated (the owner federates it). Ignored when presence is disabled.
    /// </summary>
    /// <param name="state">The owner's state of this grain's user.</param>
    /// <returns>A task.</returns>
    Task Mirror(UserPresenceState state);

    /// <summary>
    /// The user's next timer fell due (called by the silo's wake-up timer, which lets an idle grain deactivate while
    /// it waits): runs the presence timeouts and the lazy write that are due, and schedules the next wake-up.
    /// </summary>
    /// <returns>A task.</returns>
    Task Wake();
}
