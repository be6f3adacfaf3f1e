using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Runtime.Messaging;
using PresenceGrid.Client.Internal;
using PresenceGrid.Grains.Contracts;
using SetPresenceRequest = PresenceGrid.Grains.Contracts.SetPresenceRequest;

namespace PresenceGrid.Client.Orleans;

/// <summary>
/// <see cref="IPresenceGridClient"/> over Orleans: every call goes through the Orleans client's gateway connection to
/// <see cref="IPresenceFrontendGrain"/>, a stateless worker on the gateway silo that runs the same code as the HTTP API.
/// Thread-safe; one per process (or from DI through <c>services.AddPresenceGridOrleansClient()</c>).
/// </summary>
/// <remarks>
/// <para>Errors are the HTTP client's: an error the grid answers is a <see cref="PresenceGridApiException"/> (or
/// <see cref="PresenceGridRateLimitedException"/>, <see cref="PresenceGridForbiddenException"/>) with the status the
/// HTTP API answers with, the same <c>errcode</c> and message; a gateway that cannot be reached, or no answer within
/// Orleans' response timeout, is a <see cref="PresenceGridUnavailableException"/>. Failover between gateways is
/// the Orleans client's (its gateway list).</para>
/// <para>No bearer token: the gateway connection is authenticated by the cluster secret (<c>UseClusterSecret</c>), so
/// a client with it may do what any frontend token may.</para>
/// </remarks>
public sealed class OrleansPresenceGridClient : IPresenceGridClient
{
    private const string PresenceEventType = "m.presence";

    private readonly IPresenceFrontendGrain _frontend;
    private readonly OrleansPresenceGridClientOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    /// <summary>Creates a client over <paramref name="grainFactory"/> (an <see cref="IClusterClient"/> connected to the grid).</summary>
    /// <param name="grainFactory">The Orleans client's grain factory.</param>
    /// <param name="options">The options; copied, so later changes have no effect. Defaults when null.</param>
    /// <param name="timeProvider">The time source for watch back-off and lease renewals; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="logger">The logger; none when null.</param>
    /// <exception cref="ArgumentException"><paramref name="options"/> are invalid; the message names each bad field.</exception>
    public OrleansPresenceGridClient(
        IGrainFactory grainFactory, OrleansPresenceGridClientOptions? options = null, TimeProvider? timeProvider = null, ILogger<OrleansPresenceGridClient>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(grainFactory);
        options ??= new OrleansPresenceGridClientOptions();
        if (options.Validate() is { Count: > 0 } failures)
        {
            throw new ArgumentException(string.Join(" ", failures), nameof(options));
        }

        _options = new OrleansPresenceGridClientOptions
        {
            WatchPollTimeout = options.WatchPollTimeout,
            WatchReconnectDelay = options.WatchReconnectDelay,
            WatchMaxReconnectDelay = options.WatchMaxReconnectDelay,
            SyncKeepAliveInterval = options.SyncKeepAliveInterval,
        };
        _frontend = grainFactory.GetGrain<IPresenceFrontendGrain>(IPresenceFrontendGrain.Key);
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <inheritdoc/>
    public Task SetPresenceAsync(string userId, PresenceState presence, string? statusMsg = null, string? deviceId = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        return CallAsync("SetPresence", f => f.SetPresence(new SetPresenceRequest(userId, presence.Value, statusMsg, deviceId)), cancellationToken);
    }

    /// <inheritdoc/>
    public async Task<PresenceContent> GetPresenceAsync(string userId, string? requester = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        return ToContent(await CallAsync("GetPresence", f => f.GetPresence(userId, requester), cancellationToken).ConfigureAwait(false));
    }

    /// <inheritdoc/>
    public Task StartSyncingAsync(string userId, string deviceId, PresenceState? setPresence = null, CancellationToken cancellationToken = default) =>
        SetSyncingAsync("StartSyncing", userId, deviceId, start: true, setPresence, cancellationToken);

    /// <inheritdoc/>
    public Task StopSyncingAsync(string userId, string deviceId, PresenceState? setPresence = null, CancellationToken cancellationToken = default) =>
        SetSyncingAsync("StopSyncing", userId, deviceId, start: false, setPresence, cancellationToken);

    /// <inheritdoc/>
    public Task MarkActiveAsync(string userId, string deviceId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        ArgumentException.ThrowIfNullOrEmpty(deviceId);
        return CallAsync("MarkActive", f => f.MarkActive(userId, deviceId), cancellationToken);
    }

    /// <inheritdoc/>
    public Task KeepAliveAsync(string userId, string deviceId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        ArgumentException.ThrowIfNullOrEmpty(deviceId);
        return CallAsync("KeepAlive", f => f.KeepAlive(userId, deviceId), cancellationToken);
    }

    /// <inheritdoc/>
    /// <remarks>The <paramref name="deviceId"/> is not sent: the grid's sync does not use it (as over HTTP).</remarks>
    public async Task<SyncBatch> SyncAsync(
        string userId, string? since = null, bool? fullState = null, TimeSpan? timeout = null, string? deviceId = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        if (timeout is { } t)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(t, TimeSpan.Zero, nameof(timeout));
        }

        var request = new SyncRequest(userId, since, fullState ?? false, timeout ?? TimeSpan.Zero);
        var result = await CallAsync("Sync", f => f.Sync(request, cancellationToken), cancellationToken).ConfigureAwait(false);
        return new SyncBatch([.. result.Events.Select(e => new PresenceEvent(PresenceEventType, e.Sender, ToContent(e.Content)))], result.NextBatch);
    }

    /// <inheritdoc/>
    public IAsyncEnumerable<SyncBatch> WatchAsync(string userId, string? since = null, CancellationToken cancellationToken = default) =>
        WatchAsync(userId, since, deviceId: null, cancellationToken);

    /// <inheritdoc/>
    /// <remarks>
    /// Built on long-polling <see cref="SyncAsync"/> (each poll waits up to <see cref="OrleansPresenceGridClientOptions.WatchPollTimeout"/>):
    /// a poll is one grain call, resumable from its token on any gateway, so a lost gateway costs one retry and never a
    /// batch. When the gateway cannot be reached the watch backs off (<see cref="OrleansPresenceGridClientOptions.WatchReconnectDelay"/>,
    /// doubling) and resumes, yielding the first batch after the reconnection as the HTTP watch does after reconnecting.
    /// </remarks>
    public IAsyncEnumerable<SyncBatch> WatchAsync(string userId, string? since, string? deviceId, CancellationToken cancellationToken = default) =>
        WatchDeviceLease.RunAsync(
            this, userId, deviceId, (started, ct) => PollAsync(userId, since, deviceId, started, ct), _options.SyncKeepAliveInterval, _timeProvider, _logger, cancellationToken);

    /// <inheritdoc/>
    public Task SetMembershipAsync(string roomId, string userId, Membership membership, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(roomId);
        ArgumentException.ThrowIfNullOrEmpty(userId);
        if (!Enum.IsDefined(membership))
        {
            throw new ArgumentOutOfRangeException(nameof(membership), membership, "Unknown membership.");
        }

        // The enum's names are the wire values, lower-cased (join, leave, invite, ban, knock).
        var wire = membership.ToString().ToLowerInvariant();
        return CallAsync("SetMembership", f => f.SetMembership(roomId, userId, wire), cancellationToken);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<FederationItemError>> SendFederationAsync(
        string origin, IEnumerable<FederationPresenceUpdate> push, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(origin);
        ArgumentNullException.ThrowIfNull(push);
        FederationPresenceItem[] items = [.. push.Select(u => new FederationPresenceItem(u.UserId, u.Presence.Value, u.LastActiveAgo, u.StatusMsg, u.CurrentlyActive))];
        var errors = await CallAsync("SendFederation", f => f.ReceiveFederation(origin, items), cancellationToken).ConfigureAwait(false);
        return [.. errors.Select(e => new FederationItemError(e.Index, e.ErrCode, e.Error))];
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<OutgoingEdu>> TakeOutgoingAsync(string destination, int? limit = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(destination);
        if (limit is { } l)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(l, 1, nameof(limit));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(l, 100, nameof(limit));
        }

        var edus = await CallAsync("TakeOutgoing", f => f.TakeOutgoing(destination, limit ?? 1), cancellationToken).ConfigureAwait(false);
        return
        [
            .. edus.Select(edu => new OutgoingEdu(
                PresenceEventType,
                new PresenceEduContent([.. edu.Push.Select(i => new FederationPresenceUpdate(i.UserId, new PresenceState(i.Presence), i.LastActiveAgo, i.StatusMsg, i.CurrentlyActive))]))),
        ];
    }

    /// <inheritdoc/>
    public Task SendLocalOnlinePresenceToAsync(IEnumerable<string> users, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(users);
        string[] list = [.. users];
        return CallAsync("SendLocalOnlinePresenceTo", f => f.SendLocalOnlinePresenceTo(list), cancellationToken);
    }

    /// <inheritdoc/>
    public Task SetPresenceForUsersAsync(IReadOnlyDictionary<string, UserPresenceUpdate> users, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(users);
        UserPresenceInput[] list = [.. users.Select(u => new UserPresenceInput(u.Key, u.Value.Presence.Value, u.Value.StatusMsg))];
        return CallAsync("SetPresenceForUsers", f => f.SetPresenceForUsers(list), cancellationToken);
    }

    /// <inheritdoc/>
    public async Task<PresenceExplanation> ExplainAsync(string from, string to, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(from);
        ArgumentException.ThrowIfNullOrEmpty(to);
        var result = await CallAsync("Explain", f => f.Explain(from, to), cancellationToken).ConfigureAwait(false);
        return new PresenceExplanation(result.Delivered, [.. result.Reasons.Select(r => new ExplainReason(r.Kind, r.RoomId, r.Module))]);
    }

    /// <inheritdoc/>
    public async Task<ClusterStatus> GetClusterAsync(CancellationToken cancellationToken = default)
    {
        var result = await CallAsync("GetCluster", f => f.GetCluster(), cancellationToken).ConfigureAwait(false);
        return new ClusterStatus([.. result.Silos.Select(s => new SiloInfo(s.Name, s.Address, s.Status, s.Activations, s.HttpEndpoint, s.Self, s.SiloEndpoint, s.Generation))]);
    }

    /// <inheritdoc/>
    public async Task<HealthStatus> HealthAsync(CancellationToken cancellationToken = default) =>
        new(await CallAsync("Health", f => f.Health(), cancellationToken).ConfigureAwait(false));

    /// <summary>The grid's error as the SDK's typed exception, as the HTTP client maps the same answer.</summary>
    internal static PresenceGridApiException ToApiException(PresenceFrontendException error) => error.Status switch
    {
        (int)HttpStatusCode.TooManyRequests => new PresenceGridRateLimitedException(
            error.ErrCode, error.Message, error.RetryAfterMs is >= 0 ? TimeSpan.FromMilliseconds(error.RetryAfterMs.Value) : null),
        (int)HttpStatusCode.Forbidden => new PresenceGridForbiddenException(error.ErrCode, error.Message),
        _ => new PresenceGridApiException((HttpStatusCode)error.Status, error.ErrCode, error.Message),
    };

    private static PresenceContent ToContent(PresenceContentResult content) =>
        new(new PresenceState(content.Presence), content.LastActiveAgo, content.StatusMsg, content.CurrentlyActive);

    private Task SetSyncingAsync(string operation, string userId, string deviceId, bool start, PresenceState? setPresence, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        ArgumentException.ThrowIfNullOrEmpty(deviceId);
        return CallAsync(operation, f => f.SetSyncing(userId, deviceId, start, setPresence?.Value), cancellationToken);
    }

    /// <summary>The watch's polls; with a device, the first poll and the first after each lost gateway start the device's sync, then call <paramref name="started"/>.</summary>
    private async IAsyncEnumerable<SyncBatch> PollAsync(
        string userId, string? since, string? deviceId, Action started, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var failedTries = 0;
        var connecting = true;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            SyncBatch batch;
            try
            {
                if (connecting && deviceId is not null)
                {
                    await StartSyncingAsync(userId, deviceId, cancellationToken: cancellationToken).ConfigureAwait(false);
                    started();
                }

                batch = await SyncAsync(userId, since, timeout: connecting ? TimeSpan.Zero : _options.WatchPollTimeout, cancellationToken: cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (PresenceGridUnavailableException ex)
            {
                connecting = true;
                var delay = WatchDeviceLease.ReconnectDelay(failedTries++, _options.WatchReconnectDelay, _options.WatchMaxReconnectDelay);
                PresenceGridClientLog.WatchReconnecting(_logger, "no gateway reachable", delay, ex);
                await Task.Delay(delay, _timeProvider, cancellationToken).ConfigureAwait(false);
                continue;
            }

            since = batch.NextBatch;
            failedTries = 0;
            if (connecting || batch.Events.Count > 0)
            {
                connecting = false;
                yield return batch;
            }
        }
    }

    private async Task CallAsync(string operation, Func<IPresenceFrontendGrain, Task> call, CancellationToken cancellationToken) =>
        await CallAsync(
            operation,
            async f =>
            {
                await call(f).ConfigureAwait(false);
                return true;
            },
            cancellationToken).ConfigureAwait(false);

    /// <summary>Calls the frontend grain; the grid's errors become the SDK's typed exceptions, an unreachable gateway <see cref="PresenceGridUnavailableException"/>.</summary>
    private async Task<T> CallAsync<T>(string operation, Func<IPresenceFrontendGrain, Task<T>> call, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            return await call(_frontend).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (PresenceFrontendException error)
        {
            throw ToApiException(error);
        }
        catch (Exception ex) when (ex is OrleansMessageRejectionException or ConnectionFailedException or TimeoutException or ClientNotAvailableException or GatewayTooBusyException
            && !cancellationToken.IsCancellationRequested)
        {
            throw new PresenceGridUnavailableException($"{operation} failed: the grid's gateway cannot be reached or did not answer ({ex.Message}).", [ex]);
        }
    }
}
