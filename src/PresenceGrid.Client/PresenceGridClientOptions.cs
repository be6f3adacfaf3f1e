namespace PresenceGrid.Client;

/// <summary>Options of <see cref="PresenceGridClient"/>.</summary>
public sealed class PresenceGridClientOptions
{
    /// <summary>
    /// The silo endpoints, in order of preference (for example <c>http://silo-a:8080/</c>). Required: at least one absolute
    /// http(s) URI. A path is kept as a base path. A request that fails with a connection error or times out is retried on
    /// the next endpoint; an HTTP error answer is not.
    /// </summary>
    public IList<Uri> Endpoints { get; set; } = [];

    /// <summary>The bearer token sent as <c>Authorization: Bearer …</c>; <see langword="null"/> (default) sends none.</summary>
    public string? Token { get; set; }

    /// <summary>
    /// How long one attempt on one endpoint may take before the next endpoint is tried. Default 30 s. For a long-polling
    /// sync the poll timeout is added; for a watch stream it covers only the wait for the response headers.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long opening a TCP connection may take, for the handler that <c>AddPresenceGridClient</c> and the
    /// options-only constructor create. Default 5 s.
    /// </summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Whether requests ask for HTTP/2 (<c>Version = 2.0</c>, <c>RequestVersionOrLower</c>): negotiated over TLS,
    /// HTTP/1.1 on cleartext. Default <see langword="true"/>. <see langword="false"/> sends HTTP/1.1.
    /// </summary>
    public bool PreferHttp2 { get; set; } = true;

    /// <summary>
    /// Speak HTTP/2 without negotiation (<c>RequestVersionExact</c>): for the silo's cleartext HTTP/2
    /// endpoints (<c>--h2c-urls</c>), where negotiation cannot happen. Default <see langword="false"/>.
    /// </summary>
    public bool Http2PriorKnowledge { get; set; }

    /// <summary>The first delay before a dropped watch stream reconnects; it doubles per failed try. Default 250 ms.</summary>
    public TimeSpan WatchReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The largest delay between watch reconnection tries. Default 5 s.</summary>
    public TimeSpan WatchMaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often a watch opened for a device renews the device's syncing lease (<c>POST …/devices/{deviceId}/keepalive</c>).
    /// Default 1 min. Keep it well below the silo's lease (5 min), so that a renewal lost to a brief outage is made up in time.
    /// </summary>
    public TimeSpan SyncKeepAliveInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Whether requests keyed by one user (set and get presence, device sync and activity, sync, watch) go straight to the
    /// silo that owns the user's grain, as Cassandra's token-aware and Redis Cluster's slot-aware drivers do, instead of
    /// to the first endpoint, which forwards the call to the owner over the silo transport. <see langword="null"/>
    /// (default): on when <see cref="Endpoints"/> has more than one endpoint, off with one (a load balancer, say).
    /// </summary>
    /// <remarks>
    /// The client keeps a placement view (<c>GET /v1/cluster/placement</c>: the active silos and their
    /// <c>http_endpoint</c>) and computes each user's owner with the runtime's own rendezvous hash. The first user-keyed
    /// request waits for the first view; later ones never wait: the view is refreshed in the background when it is
    /// older than <see cref="PlacementRefreshInterval"/>, and at once after a connection failure or a 5xx answer.
    /// A request whose owner is unknown, has no usable <c>http_endpoint</c>, or fails to connect goes to
    /// <see cref="Endpoints"/> in the usual failover order; an owner that failed to connect is skipped for one
    /// <see cref="PlacementRefreshInterval"/>. A stale view only costs a forward: any silo serves any user. Requests
    /// not keyed by one user (room membership, federation, modules, admin) always use <see cref="Endpoints"/>.
    /// The client must be able to reach each silo's advertised <c>http_endpoint</c> directly, and sends it the
    /// <see cref="Token"/>.
    /// </remarks>
    public bool? RouteToOwner { get; set; }

    /// <summary>
    /// How old the owner-routing placement view may get before a request refreshes it (in the background; the request
    /// uses the view it has). Default 5 s. Also how long an owner silo that failed to connect is skipped.
    /// </summary>
    public TimeSpan PlacementRefreshInterval { get; set; } = TimeSpan.FromSeconds(5);
}
