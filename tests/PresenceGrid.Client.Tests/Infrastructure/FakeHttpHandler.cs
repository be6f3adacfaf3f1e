using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace PresenceGrid.Client.Tests.Infrastructure;

/// <summary>What the fake handler saw of one request (captured when it was sent).</summary>
internal sealed record RecordedRequest(
    HttpMethod Method,
    Uri Uri,
    Version Version,
    HttpVersionPolicy VersionPolicy,
    AuthenticationHeaderValue? Authorization,
    string Accept,
    string? ContentType,
    string? Body)
{
    public string PathAndQuery => Uri.PathAndQuery;
}

/// <summary>An in-memory <see cref="HttpMessageHandler"/>: no network; each request is recorded and answered by a delegate.</summary>
internal sealed class FakeHttpHandler(Func<RecordedRequest, CancellationToken, Task<HttpResponseMessage>> respond) : HttpMessageHandler
{
    private readonly List<RecordedRequest> _requests = [];

    public FakeHttpHandler(Func<RecordedRequest, HttpResponseMessage> respond)
        : this((request, _) => Task.FromResult(respond(request)))
    {
    }

    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    public static HttpResponseMessage Json(string json, HttpStatusCode status = HttpStatusCode.OK) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    public static HttpResponseMessage Empty() => Json("{}");

    public static HttpRequestException ConnectionRefused(Uri uri) =>
        new(HttpRequestError.ConnectionError, $"Connection refused ({uri.Authority})");

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        var recorded = new RecordedRequest(
            request.Method,
            request.RequestUri!,
            request.Version,
            request.VersionPolicy,
            request.Headers.Authorization,
            request.Headers.Accept.ToString(),
            request.Content?.Headers.ContentType?.ToString(),
            body);
        lock (_requests)
        {
            _requests.Add(recorded);
        }

        var response = await respond(recorded, cancellationToken);
        response.RequestMessage = request;
        return response;
    }
}
