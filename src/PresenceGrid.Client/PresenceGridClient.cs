using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PresenceGrid.Client.Internal;

namespace PresenceGrid.Client;

/// <summary>
/// A client for the PresenceGrid HTTP/JSON API. Thread-safe; create one per process (or resolve it from DI through
/// <c>services.AddPresenceGridClient(...)</c>) and share it.
/// </summary>
/// <remarks>
/// Every call goes to the configured endpoints in turn, starting with the last one that answered: a connection failure or
/// a timeout moves on to the next endpoint, and when all fail a <see cref="PresenceGridUnavailableException"/> is thrown.
/// An HTTP error answer is thrown at once as a <see cref="PresenceGridApiException"/> (or a subclass) and is not retried.
/// A call that timed out may still have been applied by the silo that received it.
/// With owner routing (<see cref="PresenceGridClientOptions.RouteToOwner"/>), a call keyed by one user first goes to the
/// silo that owns the user, and falls back to that failover order when the owner cannot be reached.
/// </remarks>
public sealed partial class PresenceGridClient : IPresenceGridClient, IDisposable
{
    private const string PresenceEventType = "m.presence";

    private readonly HttpClient _httpClient;
    private readonly bool _ownsHttpClient;
    private readonly PresenceGridClientOptions _options;
    private readonly Uri[] _endpoints;
    private readonly AuthenticationHeaderValue? _authorization;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly OwnerRouting? _ownerRouting;
    private int _preferredEndpoint;
    private volatile bool _disposed;

    /// <summary>Creates a client that sends through <paramref name="httpClient"/> (which it does not dispose).</summary>
    /// <param name="httpClient">
    /// The HTTP client. Its <see cref="HttpClient.Timeout"/> should be infinite (watch streams stay open); the client applies
    /// <see cref="PresenceGridClientOptions.RequestTimeout"/> per attempt itself. Its <see cref="HttpClient.BaseAddress"/> is ignored.
    /// </param>
    /// <param name="options">The options; copied, so later changes have no effect.</param>
    /// <param name="timeProvider">The time source for timeouts and watch back-off; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="logger">The logger; none when null.</param>
    /// <exception cref="ArgumentException"><paramref name="options"/> are invalid; the message names each bad field.</exception>
    public PresenceGridClient(HttpClient httpClient, PresenceGridClientOptions options, TimeProvider? timeProvider = null, ILogger<PresenceGridClient>? logger = null)
        : this(httpClient, ownsHttpClient: false, options, timeProvider, logger)
    {
    }

    /// <summary>
    /// Creates a client with its own <see cref="HttpClient"/> over a <see cref="SocketsHttpHandler"/> (connections recycled
    /// every 2 minutes), disposed with the client.
    /// </summary>
    /// <param name="options">The options; copied, so later changes have no effect.</param>
    /// <param name="timeProvider">The time source for timeouts and watch back-off; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="logger">The logger; none when null.</param>
    /// <exception cref="ArgumentException"><paramref name="options"/> are invalid; the message names each bad field.</exception>
    public PresenceGridClient(PresenceGridClientOptions options, TimeProvider? timeProvider = null, ILogger<PresenceGridClient>? logger = null)
        : this(CreateHttpClient(options), ownsHttpClient: true, options, timeProvider, logger)
    {
    }

    private PresenceGridClient(HttpClient httpClient, bool ownsHttpClient, PresenceGridClientOptions options, TimeProvider? timeProvider, ILogger? logger)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(options);
        ThrowIfInvalid(options);
        _httpClient = httpClient;
        _ownsHttpClient = ownsHttpClient;
        _options = new PresenceGridClientOptions
        {
            Endpoints = options.Endpoints.Select(WithTrailingSlash).ToArray(),
            Token = options.Token,
            RequestTimeout = options.RequestTimeout,
            ConnectTimeout = options.ConnectTimeout,
            PreferHttp2 = options.PreferHttp2,
            Http2PriorKnowledge = options.Http2PriorKnowledge,
            WatchReconnectDelay = options.WatchReconnectDelay,
            WatchMaxReconnectDelay = options.WatchMaxReconnectDelay,
            SyncKeepAliveInterval = options.SyncKeepAliveInterval,
            RouteToOwner = options.RouteToOwner,
            PlacementRefreshInterval = options.PlacementRefreshInterval,
        };
        _endpoints = [.. _options.Endpoints];
        _authorization = options.Token is null ? null : new AuthenticationHeaderValue("Bearer", options.Token);
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        if (_options.RouteToOwner ?? _endpoints.Length > 1)
        {
            _ownerRouting = new OwnerRouting(
                ct => SendAsync("RefreshPlacement", HttpMethod.Get, "v1/cluster/placement", null, PresenceGridJsonContext.Default.PlacementResponse, ct),
                _timeProvider,
                _options.PlacementRefreshInterval,
                _logger);
        }
    }

    /// <summary>The endpoints this client uses, each ending with <c>/</c>, in configured order.</summary>
    public IReadOnlyList<Uri> Endpoints => _endpoints;

    /// <summary>Whether user-keyed requests go to the user's owner silo (<see cref="PresenceGridClientOptions.RouteToOwner"/>, resolved).</summary>
    public bool RoutesToOwner => _ownerRouting is not null;

    /// <summary>The owner routing's state, for tests; null when it is off.</summary>
    internal OwnerRouting? OwnerRouting => _ownerRouting;

    /// <summary>Sets a user's presence (<c>PUT /v1/presence/{userId}/status</c>).</summary>
    /// <param name="userId">The user, for example <c>@alice:example.org</c>.</param>
    /// <param name="presence">The new presence state.</param>
    /// <param name="statusMsg">The status message, or <see langword="null"/> to send none.</param>
    /// <param name="deviceId">The device that set it, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the server accepted the change.</returns>
    /// <exception cref="PresenceGridApiException">The server answered with an error, or no endpoint was reachable.</exception>
    public Task SetPresenceAsync(string userId, PresenceState presence, string? statusMsg = null, string? deviceId = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        var body = Serialize(new SetPresenceRequest(presence, statusMsg, deviceId), PresenceGridJsonContext.Default.SetPresenceRequest);
        return SendAsync("SetPresence", HttpMethod.Put, $"v1/presence/{Escape(userId)}/status", body, cancellationToken, routeBy: userId);
    }

    /// <summary>Gets a user's presence (<c>GET /v1/presence/{userId}/status</c>).</summary>
    /// <param name="userId">The user whose presence is read.</param>
    /// <param name="requester">The user asking, for visibility checks (<c>?requester=</c>), or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The <c>m.presence</c> content.</returns>
    /// <exception cref="PresenceGridApiException">The server answered with an error, or no endpoint was reachable.</exception>
    public Task<PresenceContent> GetPresenceAsync(string userId, string? requester = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        var path = WithQuery($"v1/presence/{Escape(userId)}/status", ("requester", requester));
        return SendAsync("GetPresence", HttpMethod.Get, path, null, PresenceGridJsonContext.Default.PresenceContent, cancellationToken, routeBy: userId);
    }

    /// <summary>Reports that a device started syncing (<c>POST /v1/presence/{userId}/devices/{deviceId}/sync</c>, <c>"state": "start"</c>).</summary>
    /// <param name="userId">The user.</param>
    /// <param name="deviceId">The device.</param>
    /// <param name="setPresence">The <c>set_presence</c> of the sync (online, unavailable or offline), or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the server accepted the change.</returns>
    /// <exception cref="PresenceGridApiException">The server answered with an error, or no endpoint was reachable.</exception>
    public Task StartSyncingAsync(string userId, string deviceId, PresenceState? setPresence = null, CancellationToken cancellationToken = default) =>
        SendSyncStateAsync("StartSyncing", userId, deviceId, "start", setPresence, cancellationToken);

    /// <summary>Reports that a device stopped syncing (<c>POST /v1/presence/{userId}/devices/{deviceId}/sync</c>, <c>"state": "stop"</c>).</summary>
    /// <param name="userId">The user.</param>
    /// <param name="deviceId">The device.</param>
    /// <param name="setPresence">The <c>set_presence</c> of the sync (online, unavailable or offline), or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the server accepted the change.</returns>
    /// <exception cref="PresenceGridApiException">The server answered with an error, or no endpoint was reachable.</exception>
    public Task StopSyncingAsync(string userId, string deviceId, PresenceState? setPresence = null, CancellationToken cancellationToken = default) =>
        SendSyncStateAsync("StopSyncing", userId, deviceId, "stop", setPresence, cancellationToken);

    /// <summary>Marks a device as active now (<c>POST /v1/presence/{userId}/devices/{deviceId}/active</c>, no body).</summary>
    /// <param name="userId">The user.</param>
    /// <param name="deviceId">The device.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the server accepted it.</returns>
    /// <exception cref="PresenceGridApiException">The server answered with an error, or no endpoint was reachable.</exception>
    public Task MarkActiveAsync(string userId, string deviceId, CancellationToken cancellationToken = default) =>
        SendDeviceCommandAsync("MarkActive", userId, deviceId, "active", cancellationToken);

    /// <summary>
    /// Renews a syncing device's lease (<c>POST /v1/presence/{userId}/devices/{deviceId}/keepalive</c>, no body): the device's sync
    /// is still open. Without a renewal, a device that started syncing stops counting as syncing 5 minutes after its start or
    /// last renewal. Not activity; a no-op for a device that is not syncing (start it with <see cref="StartSyncingAsync"/>).
    /// <see cref="WatchAsync(string, string?, string?, CancellationToken)"/> with a device sends these itself.
    /// </summary>
    /// <param name="userId">The user.</param>
    /// <param name="deviceId">The device.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the server accepted it.</returns>
    /// <exception cref="PresenceGridApiException">The server answered with an error, or no endpoint was reachable.</exception>
    public Task KeepAliveAsync(string userId, string deviceId, CancellationToken cancellationToken = default) =>
        SendDeviceCommandAsync("KeepAlive", userId, deviceId, "keepalive", cancellationToken);

    /// <summary>Gets the presence events a user should see (<c>GET /v1/sync/{userId}</c>), long-polling when <paramref name="timeout"/> is set.</summary>
    /// <param name="userId">The syncing user.</param>
    /// <param name="since">The <see cref="SyncBatch.NextBatch"/> of the previous sync, or <see langword="null"/> for an initial sync.</param>
    /// <param name="fullState">Whether to return the full state instead of changes (<c>full_state=true</c>); omitted when null.</param>
    /// <param name="timeout">How long the server may wait for new events (<c>timeout</c> in ms); omitted when null. Added to the attempt timeout.</param>
    /// <param name="deviceId">The syncing device, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The batch of events and the token to continue from.</returns>
    /// <exception cref="PresenceGridApiException">The server answered with an error, or no endpoint was reachable.</exception>
    public Task<SyncBatch> SyncAsync(
        string userId, string? since = null, bool? fullState = null, TimeSpan? timeout = null, string? deviceId = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        if (timeout is { } t)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(t, TimeSpan.Zero, nameof(timeout));
        }

        var path = WithQuery(
            $"v1/sync/{Escape(userId)}",
            ("since", since),
            ("full_state", fullState is null ? null : fullState.Value ? "true" : "false"),
            ("timeout", timeout is null ? null : FormatMilliseconds(timeout.Value)),
            ("device_id", deviceId));
        return SendAsync("Sync", HttpMethod.Get, path, null, PresenceGridJsonContext.Default.SyncBatch, cancellationToken, timeout ?? TimeSpan.Zero, routeBy: userId);
    }

    /// <summary>Sets a user's membership of a room (<c>PUT /v1/rooms/{roomId}/members/{userId}</c>).</summary>
    /// <param name="roomId">The room, for example <c>!abc:example.org</c>.</param>
    /// <param name="userId">The user.</param>
    /// <param name="membership">The membership.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the server accepted the change.</returns>
    /// <exception cref="PresenceGridApiException">The server answered with an error, or no endpoint was reachable.</exception>
    public Task SetMembershipAsync(string roomId, string userId, Membership membership, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(roomId);
        ArgumentException.ThrowIfNullOrEmpty(userId);
        if (!Enum.IsDefined(membership))
        {
            throw new ArgumentOutOfRangeException(nameof(membership), membership, "Unknown membership.");
        }

        var body = Serialize(new MembershipRequest(membership), PresenceGridJsonContext.Default.MembershipRequest);
        return SendAsync("SetMembership", HttpMethod.Put, $"v1/rooms/{Escape(roomId)}/members/{Escape(userId)}", body, cancellationToken);
    }

    /// <summary>
    /// Delivers an <c>m.presence</c> EDU received from a remote server (<c>POST /v1/federation/incoming</c>). Items the
    /// server rejects are returned; the others were applied.
    /// </summary>
    /// <param name="origin">The server the EDU came from, for example <c>remote.example</c>.</param>
    /// <param name="push">The presence updates of the EDU.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The rejected items (index into <paramref name="push"/>, errcode, error); empty when all were applied.</returns>
    /// <exception cref="PresenceGridApiException">The server answered with an error, or no endpoint was reachable.</exception>
    public async Task<IReadOnlyList<FederationItemError>> SendFederationAsync(
        string origin, IEnumerable<FederationPresenceUpdate> push, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(origin);
        ArgumentNullException.ThrowIfNull(push);
        var request = new FederationIncomingRequest(origin, PresenceEventType, new PresenceEduContent([.. push]));
        var body = Serialize(request, PresenceGridJsonContext.Default.FederationIncomingRequest);
        var answer = await SendAsync("SendFederation", HttpMethod.Post, "v1/federation/incoming", body, PresenceGridJsonContext.Default.FederationIncomingResponse, cancellationToken)
            .ConfigureAwait(false);
        return answer.Errors ?? [];
    }

    /// <summary>
    /// Takes (removes and returns) the EDUs queued for a remote server (<c>POST /v1/federation/outgoing/{destination}/take</c>).
    /// Taken EDUs are not returned again, so a call that times out may lose them.
    /// </summary>
    /// <param name="destination">The remote server name.</param>
    /// <param name="limit">The most EDUs to take, 1 to 100; the server's default when null.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The EDUs, oldest first; empty when none are queued.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is outside 1..100.</exception>
    /// <exception cref="PresenceGridApiException">The server answered with an error, or no endpoint was reachable.</exception>
    public async Task<IReadOnlyList<OutgoingEdu>> TakeOutgoingAsync(string destination, int? limit = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(destination);
        if (limit is { } l)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(l, 1, nameof(limit));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(l, 100, nameof(limit));
        }

        var path = WithQuery($"v1/federation/outgoing/{Escape(destination)}/take", ("limit", limit?.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var answer = await SendAsync("TakeOutgoing", HttpMethod.Post, path, null, PresenceGridJsonContext.Default.TakeOutgoingResponse, cancellationToken)
            .ConfigureAwait(false);
        return answer.Edus;
    }

    /// <summary>Sends the presence of every online local user to the given users (<c>POST /v1/modules/send_local_online_presence_to</c>).</summary>
    /// <param name="users">The users to send to.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the server accepted the request.</returns>
    /// <exception cref="PresenceGridApiException">The server answered with an error, or no endpoint was reachable.</exception>
    public Task SendLocalOnlinePresenceToAsync(IEnumerable<string> users, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(users);
        var body = Serialize(new SendLocalOnlinePresenceToRequest([.. users]), PresenceGridJsonContext.Default.SendLocalOnlinePresenceToRequest);
        return SendAsync("SendLocalOnlinePresenceTo", HttpMethod.Post, "v1/modules/send_local_online_presence_to", body, cancellationToken);
    }

    /// <summary>Sets the presence of several users at once (<c>POST /v1/modules/set_presence_for_users</c>).</summary>
    /// <param name="users">The presence to set, keyed by user id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the server accepted the changes.</returns>
    /// <exception cref="PresenceGridApiException">The server answered with an error, or no endpoint was reachable.</exception>
    public Task SetPresenceForUsersAsync(IReadOnlyDictionary<string, UserPresenceUpdate> users, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(users);
        var body = Serialize(new SetPresenceForUsersRequest(users), PresenceGridJsonContext.Default.SetPresenceForUsersRequest);
        return SendAsync("SetPresenceForUsers", HttpMethod.Post, "v1/modules/set_presence_for_users", body, cancellationToken);
    }

    /// <summary>Explains whether and why presence of <paramref name="from"/> reaches <paramref name="to"/> (<c>GET /v1/admin/explain</c>).</summary>
    /// <param name="from">The user whose presence is considered.</param>
    /// <param name="to">The user who would receive it.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Whether it is delivered, and the reasons.</returns>
    /// <exception cref="PresenceGridApiException">The server answered with an error, or no endpoint was reachable.</exception>
    public Task<PresenceExplanation> ExplainAsync(string from, string to, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(from);
        ArgumentException.ThrowIfNullOrEmpty(to);
        var path = WithQuery("v1/admin/explain", ("from", from), ("to", to));
        return SendAsync("Explain", HttpMethod.Get, path, null, PresenceGridJsonContext.Default.PresenceExplanation, cancellationToken);
    }

    /// <summary>Gets the cluster membership as seen by the answering silo (<c>GET /v1/admin/cluster</c>).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The silos.</returns>
    /// <exception cref="PresenceGridApiException">The server answered with an error, or no endpoint was reachable.</exception>
    public Task<ClusterStatus> GetClusterAsync(CancellationToken cancellationToken = default) =>
        SendAsync("GetCluster", HttpMethod.Get, "v1/admin/cluster", null, PresenceGridJsonContext.Default.ClusterStatus, cancellationToken);

    /// <summary>Checks the health of the first reachable silo (<c>GET /healthz</c>).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The health status.</returns>
    /// <exception cref="PresenceGridApiException">The server answered with an error, or no endpoint was reachable.</exception>
    public Task<HealthStatus> HealthAsync(CancellationToken cancellationToken = default) =>
        SendAsync("Health", HttpMethod.Get, "healthz", null, PresenceGridJsonContext.Default.HealthStatus, cancellationToken);

    /// <summary>Disposes the <see cref="HttpClient"/> if this client created it.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_ownsHttpClient)
        {
            _httpClient.Dispose();
        }
    }

    /// <summary>Creates the handler used by the options-only constructor and by <c>AddPresenceGridClient</c>.</summary>
    internal static SocketsHttpHandler CreateHandler(PresenceGridClientOptions options) => new()
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        ConnectTimeout = options.ConnectTimeout,
        EnableMultipleHttp2Connections = true,
        AutomaticDecompression = DecompressionMethods.None,
    };

    private static void ThrowIfInvalid(PresenceGridClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = PresenceGridClientOptionsValidator.GetFailures(options);
        if (failures.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", failures), nameof(options));
        }
    }

    private static HttpClient CreateHttpClient(PresenceGridClientOptions options)
    {
        ThrowIfInvalid(options);
        return new HttpClient(CreateHandler(options), disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary><paramref name="endpoint"/> with a path ending in <c>/</c>, so that relative paths resolve below it.</summary>
    internal static Uri WithTrailingSlash(Uri endpoint) =>
        endpoint.AbsolutePath.EndsWith('/') ? endpoint : new Uri(endpoint.GetLeftPart(UriPartial.Path) + "/");

    private Task SendDeviceCommandAsync(string operation, string userId, string deviceId, string command, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        ArgumentException.ThrowIfNullOrEmpty(deviceId);
        return SendAsync(operation, HttpMethod.Post, $"v1/presence/{Escape(userId)}/devices/{Escape(deviceId)}/{command}", null, cancellationToken, routeBy: userId);
    }

    private Task SendSyncStateAsync(string operation, string userId, string deviceId, string state, PresenceState? setPresence, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        ArgumentException.ThrowIfNullOrEmpty(deviceId);
        var body = Serialize(new SyncStateRequest(state, setPresence), PresenceGridJsonContext.Default.SyncStateRequest);
        return SendAsync(operation, HttpMethod.Post, $"v1/presence/{Escape(userId)}/devices/{Escape(deviceId)}/sync", body, cancellationToken, routeBy: userId);
    }
}
