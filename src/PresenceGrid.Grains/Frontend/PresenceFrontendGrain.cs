using System.Text.Json;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using PresenceGrid.Federation;
using PresenceGrid.Grains;
using PresenceGrid.Grains.Contracts;
using PresenceGrid.Hosting;
using PresenceGrid.Matrix;
using PresenceGrid.Sync;

namespace PresenceGrid.Frontend;

/// <summary>
/// <see cref="IPresenceFrontendGrain"/>: the HTTP API's operations for Orleans clients, on <see cref="PresenceService"/>
/// (the service the HTTP API calls) with the same checks (<see cref="FrontendRequests"/>) and the same error mapping
/// (<see cref="FrontendError"/>). A stateless worker, so it runs on the gateway silo the client's call arrives at,
/// and reentrant: it holds no state, and a long-polling sync must not hold up the calls behind it.
/// </summary>
/// <remarks>
/// One activation per silo: Orleans sends a call's cancellation to the grain id, which a stateless worker with several
/// activations may hand to another activation than the one running the call (a busy worker makes a new one), so a
/// cancelled sync would keep waiting on the silo. Being reentrant, the one activation interleaves all calls; its own
/// turns are short (the work runs in <see cref="PresenceService"/> and the user grains).
/// </remarks>
[StatelessWorker(1)]
[Reentrant]
internal sealed partial class PresenceFrontendGrain(PresenceService presence, ClusterView cluster, TimeProvider time, ILogger<PresenceFrontendGrain> logger)
    : Grain, IPresenceFrontendGrain
{
    /// <summary>A sync's wait is cut to a day at most, as the HTTP API cuts its <c>timeout</c> (a longer one could overflow).</summary>
    private static readonly TimeSpan MaxTimeout = TimeSpan.FromDays(1);

    public Task SetPresence(SetPresenceRequest request) => Run(async () =>
    {
        ArgumentNullException.ThrowIfNull(request);
        PresenceCommandResult result = await presence.SetPresenceAsync(request.UserId, request.Presence, request.StatusMsg, request.DeviceId);
        if (result.Outcome == PresenceCommandOutcome.RateLimited)
        {
            throw FrontendError.PresenceRateLimited(result.RetryAfterMs).ToException();
        }
    });

    public Task<PresenceContentResult> GetPresence(string userId, string? requester) => Run(async () =>
    {
        UserPresenceState state = await presence.GetPresenceAsync(userId, FrontendRequests.RequireRequester(requester));
        return Content(state, Now());
    });

    public Task SetSyncing(string userId, string deviceId, bool start, string? setPresence) =>
        Run(() => presence.SetSyncingAsync(userId, deviceId, start, setPresence));

    public Task MarkActive(string userId, string deviceId) => Run(() => presence.BumpActiveAsync(userId, deviceId));

    public Task KeepAlive(string userId, string deviceId) => Run(() => presence.KeepAliveAsync(userId, deviceId));

    public Task<SyncResult> Sync(SyncRequest request, CancellationToken cancellationToken) => Run(async () =>
    {
        ArgumentNullException.ThrowIfNull(request);
        TimeSpan timeout = request.Timeout < TimeSpan.Zero ? TimeSpan.Zero : request.Timeout > MaxTimeout ? MaxTimeout : request.Timeout;
        PresenceSyncResult result = await presence.SyncAsync(request.UserId, request.Since, request.FullState, timeout, cancellationToken);
        long now = Now();
        return new SyncResult([.. result.Events.Select(s => new PresenceEventResult(s.UserId.ToString(), Content(s, now)))], result.NextBatch);
    });

    public Task SetMembership(string roomId, string userId, string membership) => Run(() => presence.SetMembershipAsync(roomId, userId, membership));

    public Task<FederationItemErrorResult[]> ReceiveFederation(string origin, FederationPresenceItem[] push) => Run(async () =>
    {
        using JsonDocument content = EduContent(push ?? throw new MatrixValidationException(MatrixErrorCodes.BadJson, "content.push", "content.push must be an array of presence items."));
        IReadOnlyList<FederationItemError> errors = await presence.ReceiveFederationAsync(origin, content.RootElement);
        return errors.Select(e => new FederationItemErrorResult(e.Index, FrontendError.ItemErrCode(e.ErrCode), e.Error)).ToArray();
    });

    public Task<OutgoingEduResult[]> TakeOutgoing(string destination, int limit) => Run(async () =>
    {
        IReadOnlyList<PresenceEdu> edus = await presence.TakeOutgoingAsync(destination, limit);
        long now = Now();
        return edus.Select(edu => new OutgoingEduResult([.. edu.Push.Select(s => FederationItem(s, now))])).ToArray();
    });

    public Task SendLocalOnlinePresenceTo(string[] users) =>
        Run(() => presence.SendLocalOnlinePresenceToAsync(users ?? throw new MatrixValidationException(MatrixErrorCodes.BadJson, "users", "users: must be a list of user ids.")));

    public Task SetPresenceForUsers(UserPresenceInput[] users) => Run(() =>
    {
        if (users is null)
        {
            throw new MatrixValidationException(MatrixErrorCodes.BadJson, "users", "users: must be an object of user id → {presence, status_msg?}.");
        }

        var updates = new Dictionary<string, (PresenceState, string?)>(StringComparer.Ordinal);
        foreach (UserPresenceInput user in users)
        {
            updates[user.UserId] = (FrontendRequests.ParseModulePresence(user.UserId, user.Presence), user.StatusMsg);
        }

        return presence.SetPresenceForUsersAsync(updates);
    });

    public Task<ExplanationResult> Explain(string from, string to) => Run(async () =>
    {
        PresenceExplanation explanation = await presence.ExplainAsync(from ?? string.Empty, to ?? string.Empty);
        return new ExplanationResult(explanation.Delivered, [.. explanation.Reasons.Select(r => new ExplainReasonResult(r.Kind, r.RoomId, r.Module))]);
    });

    public Task<ClusterResult> GetCluster() => Run(cluster.GetAsync);

    public Task<string> Health() => Task.FromResult("ok");

    /// <summary>The <c>m.presence</c> content with the fields the HTTP API writes (<see cref="UserPresenceState.WriteContent"/>).</summary>
    internal static PresenceContentResult Content(UserPresenceState state, long now) => new(
        PresenceStates.ToWireString(state.State),
        state.LastActiveTs != 0 ? now - state.LastActiveTs : null,
        string.IsNullOrEmpty(state.StatusMsg) ? null : state.StatusMsg,
        state.State == PresenceState.Online ? state.CurrentlyActive : null);

    private static FederationPresenceItem FederationItem(UserPresenceState state, long now)
    {
        PresenceContentResult content = Content(state, now);
        return new FederationPresenceItem(state.UserId.ToString(), content.Presence, content.LastActiveAgo, content.StatusMsg, content.CurrentlyActive);
    }

    /// <summary>The EDU content <c>{"push": [...]}</c> the service parses, item by item, as it parses the HTTP API's.</summary>
    private static JsonDocument EduContent(FederationPresenceItem[] push)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("push");
            foreach (FederationPresenceItem item in push)
            {
                w.WriteStartObject();
                w.WriteString("user_id", item.UserId);
                w.WriteString("presence", item.Presence);
                if (item.LastActiveAgo is { } ago)
                {
                    w.WriteNumber("last_active_ago", ago);
                }

                if (item.StatusMsg is { } status)
                {
                    w.WriteString("status_msg", status);
                }

                if (item.CurrentlyActive is { } active)
                {
                    w.WriteBoolean("currently_active", active);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return JsonDocument.Parse(buffer.WrittenMemory);
    }

    private long Now() => time.GetUtcNow().ToUnixTimeMilliseconds();

    private Task Run(Func<Task> operation) => Run(async () =>
    {
        await operation();
        return true;
    });

    /// <summary>Runs an operation, its errors carried to the client as the HTTP API answers them.</summary>
    private async Task<T> Run<T>(Func<Task<T>> operation)
    {
        try
        {
            return await operation();
        }
        catch (Exception exception) when (exception is not (PresenceFrontendException or OperationCanceledException))
        {
            FrontendError error = FrontendError.From(exception);
            if (error.Status == 500)
            {
                LogOperationFailed(logger, exception);
            }

            throw error.ToException();
        }
    }

    [LoggerMessage(EventId = 4100, EventName = "FrontendOperationFailed", Level = LogLevel.Error, Message = "A frontend grain call failed")]
    private static partial void LogOperationFailed(ILogger logger, Exception exception);
}
