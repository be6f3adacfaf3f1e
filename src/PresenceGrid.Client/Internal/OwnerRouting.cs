using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using PresenceGrid.Placement;

namespace PresenceGrid.Client.Internal;

/// <summary>
/// Owner routing (<see cref="PresenceGridClientOptions.RouteToOwner"/>): a cached placement view, and for a user id the
/// API endpoint of the silo that owns the user's grain. Thread-safe; finding an owner allocates nothing.
/// </summary>
/// <remarks>
/// The first lookup waits for the first view (shared by every caller); afterwards lookups never wait: a view older than
/// the refresh interval is refreshed in the background, and a connection failure or a silo's 5xx answer asks for a refresh
/// at once (at most one runs at a time, forced ones at least <see cref="ForcedRefreshGap"/> apart). An owner that failed
/// to connect is skipped for one interval, so its users go through the configured failover order without another try.
/// </remarks>
internal sealed class OwnerRouting
{
    /// <summary>The least time between two refreshes forced by failures (or the interval, when shorter).</summary>
    internal static readonly TimeSpan ForcedRefreshGap = TimeSpan.FromMilliseconds(500);

    private readonly Func<CancellationToken, Task<PlacementResponse>> _fetch;
    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private readonly TimeSpan _forcedGap;
    private readonly ILogger _logger;
    private readonly Lock _firstLoadLock = new();
    private Task? _firstLoad;
    private PlacementView? _view;
    private Suspect[] _suspects = [];
    private long _lastRefreshStarted;
    private int _refreshing;

    /// <summary>Creates the routing; nothing is fetched before the first lookup.</summary>
    /// <param name="fetch">Reads <c>GET /v1/cluster/placement</c> through the configured endpoints.</param>
    /// <param name="time">The time source.</param>
    /// <param name="interval">How old the view may get before a lookup refreshes it.</param>
    /// <param name="logger">The logger.</param>
    public OwnerRouting(Func<CancellationToken, Task<PlacementResponse>> fetch, TimeProvider time, TimeSpan interval, ILogger logger)
    {
        _fetch = fetch;
        _time = time;
        _interval = interval;
        _forcedGap = interval < ForcedRefreshGap ? interval : ForcedRefreshGap;
        _logger = logger;
    }

    /// <summary>The current view; <see langword="null"/> before the first refresh ended.</summary>
    public PlacementView? View => Volatile.Read(ref _view);

    /// <summary>
    /// The API endpoint of <paramref name="userId"/>'s owner silo, or <see langword="null"/> when it is not known, has no
    /// usable <c>http_endpoint</c>, or failed to connect lately. Only the first call (per client) waits, for the first view.
    /// </summary>
    /// <param name="userId">The user.</param>
    /// <param name="cancellationToken">Cancels the wait for the first view (not the fetch, which other callers share).</param>
    /// <returns>The owner's endpoint (ending with <c>/</c>), or null for the failover order.</returns>
    public ValueTask<Uri?> GetOwnerAsync(string userId, CancellationToken cancellationToken)
    {
        var view = Volatile.Read(ref _view);
        if (view is null)
        {
            return FirstOwnerAsync(userId, cancellationToken);
        }

        if (_time.GetElapsedTime(Volatile.Read(ref _lastRefreshStarted)) >= _interval)
        {
            StartBackgroundRefresh();
        }

        return new ValueTask<Uri?>(Routable(view.OwnerOf(userId)));
    }

    /// <summary>
    /// <paramref name="endpoint"/> failed to connect (or dropped a stream): skip it as an owner for one interval, and
    /// refresh the view now.
    /// </summary>
    /// <param name="endpoint">The owner's API endpoint, as <see cref="GetOwnerAsync"/> returned it.</param>
    public void ReportOwnerFailure(Uri endpoint)
    {
        var now = _time.GetTimestamp();
        while (true)
        {
            var current = Volatile.Read(ref _suspects);
            var next = new List<Suspect>(current.Length + 1) { new(endpoint, now) };
            next.AddRange(current.Where(s => s.Endpoint != endpoint && IsRecent(s)));
            if (Interlocked.CompareExchange(ref _suspects, [.. next], current) == current)
            {
                break;
            }
        }

        RequestRefresh();
    }

    /// <summary>A configured endpoint failed or a silo answered 5xx: the cluster may have changed, so refresh the view now.</summary>
    public void RequestRefresh()
    {
        if (Volatile.Read(ref _view) is not null && _time.GetElapsedTime(Volatile.Read(ref _lastRefreshStarted)) >= _forcedGap)
        {
            StartBackgroundRefresh();
        }
    }

    private async ValueTask<Uri?> FirstOwnerAsync(string userId, CancellationToken cancellationToken)
    {
        Task load;
        lock (_firstLoadLock)
        {
            // Only the first refresh can be running now: the others start once a view exists.
            load = _firstLoad ??= TryBeginRefresh() ? RefreshAsync() : Task.CompletedTask;
        }

        await load.WaitAsync(cancellationToken).ConfigureAwait(false);
        return Routable(Volatile.Read(ref _view)?.OwnerOf(userId));
    }

    private Uri? Routable(Uri? owner)
    {
        if (owner is null)
        {
            return null;
        }

        foreach (var suspect in Volatile.Read(ref _suspects))
        {
            if (suspect.Endpoint == owner && IsRecent(suspect))
            {
                return null;
            }
        }

        return owner;
    }

    private bool IsRecent(Suspect suspect) => _time.GetElapsedTime(suspect.FailedAt) < _interval;

    private void StartBackgroundRefresh()
    {
        if (TryBeginRefresh())
        {
            // Off the request path: the caller goes on with the view it has.
            _ = Task.Run(RefreshAsync);
        }
    }

    private bool TryBeginRefresh()
    {
        if (Interlocked.CompareExchange(ref _refreshing, 1, 0) != 0)
        {
            return false;
        }

        Volatile.Write(ref _lastRefreshStarted, _time.GetTimestamp());
        return true;
    }

    private async Task RefreshAsync()
    {
        try
        {
            var view = PlacementView.Create(await _fetch(CancellationToken.None).ConfigureAwait(false));
            Volatile.Write(ref _view, view);
            PresenceGridClientLog.PlacementRefreshed(_logger, view.Count, view.RoutableCount, view.Version);
        }
#pragma warning disable CA1031 // A refresh runs unobserved: whatever fails, the last view stays and the next refresh retries.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            if (exception is not ObjectDisposedException)
            {
                PresenceGridClientLog.PlacementRefreshFailed(_logger, exception);
            }

            // Without any view yet: an empty one, so that no later request waits for a view again.
            Interlocked.CompareExchange(ref _view, PlacementView.Empty, null);
        }
        finally
        {
            Volatile.Write(ref _refreshing, 0);
        }
    }

    private sealed record Suspect(Uri Endpoint, long FailedAt);
}

/// <summary>
/// An immutable placement view: the active silos in placement order with their placement hashes and API endpoints, and
/// the user grain's type prefix. The owner of a user is computed exactly as the runtime's <c>ClusterView.Owner</c> does.
/// </summary>
internal sealed class PlacementView
{
    private readonly ulong _userTypePrefix;
    private readonly ulong[] _siloHashes;
    private readonly Uri?[] _endpoints;

    private PlacementView(long version, ulong userTypePrefix, string[] silos, ulong[] siloHashes, Uri?[] endpoints)
    {
        Version = version;
        _userTypePrefix = userTypePrefix;
        Silos = silos;
        _siloHashes = siloHashes;
        _endpoints = endpoints;
        RoutableCount = endpoints.Count(e => e is not null);
    }

    /// <summary>No silos: every owner is unknown.</summary>
    public static PlacementView Empty { get; } = new(-1, 0, [], [], []);

    /// <summary>The membership version of the silo that answered.</summary>
    public long Version { get; }

    /// <summary>The active silos as <c>endpoint@generation</c>, in placement order.</summary>
    public IReadOnlyList<string> Silos { get; }

    /// <summary>The API endpoints, by silo; null where the silo advertised none that a client can use.</summary>
    public IReadOnlyList<Uri?> Endpoints => _endpoints;

    /// <summary>The number of active silos.</summary>
    public int Count => _siloHashes.Length;

    /// <summary>The number of silos with a usable API endpoint.</summary>
    public int RoutableCount { get; }

    /// <summary>Builds a view from a placement answer.</summary>
    /// <param name="answer">The answer of <c>GET /v1/cluster/placement</c>.</param>
    /// <returns>The view.</returns>
    public static PlacementView Create(PlacementResponse answer)
    {
        // The runtime's order (ClusterView.Active): by endpoint@generation, ordinal. Only ties between equal scores depend on it.
        var silos = answer.Silos
            .Select(s => (Key: string.Create(CultureInfo.InvariantCulture, $"{s.SiloEndpoint}@{s.Generation}"), Silo: s))
            .OrderBy(s => s.Key, StringComparer.Ordinal)
            .ToArray();
        return new PlacementView(
            answer.Version,
            RendezvousHashing.GrainTypePrefix(answer.UserGrainType),
            [.. silos.Select(s => s.Key)],
            [.. silos.Select(s => RendezvousHashing.HashSilo(s.Silo.SiloEndpoint, s.Silo.Generation))],
            [.. silos.Select(s => ToApiEndpoint(s.Silo.HttpEndpoint))]);
    }

    /// <summary>The index (in <see cref="Silos"/>) of <paramref name="userId"/>'s owner, or -1 without silos.</summary>
    /// <param name="userId">The user.</param>
    /// <returns>The index.</returns>
    public int OwnerIndex(string userId) => RendezvousHashing.PickIndex(RendezvousHashing.HashGrain(_userTypePrefix, userId), _siloHashes);

    /// <summary>The API endpoint of <paramref name="userId"/>'s owner, or null when unknown or unusable.</summary>
    /// <param name="userId">The user.</param>
    /// <returns>The endpoint.</returns>
    public Uri? OwnerOf(string userId)
    {
        var index = OwnerIndex(userId);
        return index < 0 ? null : _endpoints[index];
    }

    /// <summary>
    /// An advertised <c>http_endpoint</c> as a base URI ending with <c>/</c>, or null when a client cannot dial it
    /// (absent, not http(s), port 0, or a wildcard address such as <c>0.0.0.0</c>).
    /// </summary>
    private static Uri? ToApiEndpoint(string? httpEndpoint)
    {
        if (httpEndpoint is null
            || !Uri.TryCreate(httpEndpoint, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || uri.Port == 0
            || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))))
        {
            return null;
        }

        return PresenceGridClient.WithTrailingSlash(uri);
    }
}
