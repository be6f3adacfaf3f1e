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
}
