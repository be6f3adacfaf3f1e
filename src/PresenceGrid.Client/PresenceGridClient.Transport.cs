using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using PresenceGrid.Client.Internal;

namespace PresenceGrid.Client;

/// <content>Request building, endpoint failover and error mapping.</content>
public sealed partial class PresenceGridClient
{
    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json") { CharSet = "utf-8" };
    private static readonly MediaTypeWithQualityHeaderValue AcceptJson = new("application/json");
    private static readonly MediaTypeWithQualityHeaderValue AcceptNdjson = new("application/x-ndjson");

    /// <summary>Sends a request whose answer body is ignored (<c>{}</c>); <paramref name="routeBy"/> is the user it is keyed by, if any.</summary>
    private async Task SendAsync(string operation, HttpMethod method, string pathAndQuery, byte[]? body, CancellationToken cancellationToken, string? routeBy = null)
    {
        var (response, _, _) = await SendCoreAsync(operation, method, pathAndQuery, body, AcceptJson, HttpCompletionOption.ResponseContentRead, TimeSpan.Zero, routeBy, cancellationToken)
            .ConfigureAwait(false);
        response.Dispose();
    }

    /// <summary>Sends a request and reads its JSON answer; <paramref name="routeBy"/> is the user it is keyed by, if any.</summary>
    private async Task<T> SendAsync<T>(
        string operation,
        HttpMethod method,
        string pathAndQuery,
        byte[]? body,
        JsonTypeInfo<T> answerType,
        CancellationToken cancellationToken,
        TimeSpan extraTimeout = default,
        string? routeBy = null)
    {
        var (response, _, _) = await SendCoreAsync(operation, method, pathAndQuery, body, AcceptJson, HttpCompletionOption.ResponseContentRead, extraTimeout, routeBy, cancellationToken)
            .ConfigureAwait(false);
        using var disposeResponse = response;
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        return Deserialize(bytes, answerType, response.StatusCode, operation);
    }

    private static T Deserialize<T>(ReadOnlySpan<byte> json, JsonTypeInfo<T> type, HttpStatusCode statusCode, string operation)
    {
        try
        {
            return JsonSerializer.Deserialize(json, type)
                ?? throw new JsonException("The answer is JSON null.");
        }
        catch (JsonException ex)
        {
            throw new PresenceGridApiException(statusCode, PresenceGridErrorCodes.InvalidResponse, $"{operation}: the answer does not match the contract ({ex.Message}).", ex);
        }
    }

    private static byte[] Serialize<T>(T value, JsonTypeInfo<T> type) => JsonSerializer.SerializeToUtf8Bytes(value, type);

    /// <summary>
    /// Sends the request to the endpoints in turn, starting with the last one that answered, until one answers. A connection
    /// failure (<see cref="HttpRequestException"/> without a status) or a timeout of the attempt moves on to the next endpoint;
    /// an error answer is thrown as a <see cref="PresenceGridApiException"/> without trying further. Returns only 2xx answers,
    /// with the index of the endpoint that gave them and the endpoint.
    /// </summary>
    /// <remarks>
    /// With owner routing and a <paramref name="routeBy"/> user, the user's owner silo is tried first (index -1); when it
    /// fails to connect, the configured endpoints follow in the usual order (the owner's own entry among them skipped).
    /// </remarks>
    private async Task<(HttpResponseMessage Response, int EndpointIndex, Uri Endpoint)> SendCoreAsync(
        string operation,
        HttpMethod method,
        string pathAndQuery,
        byte[]? body,
        MediaTypeWithQualityHeaderValue accept,
        HttpCompletionOption completion,
        TimeSpan extraTimeout,
        string? routeBy,
        CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var owner = routeBy is not null && _ownerRouting is { } routing
            ? await routing.GetOwnerAsync(routeBy, cancellationToken).ConfigureAwait(false)
            : null;
        var count = _endpoints.Length;
        var start = Volatile.Read(ref _preferredEndpoint);
        var failures = new List<Exception>(owner is null ? count : count + 1);
        var attemptTimeout = _options.RequestTimeout == Timeout.InfiniteTimeSpan ? Timeout.InfiniteTimeSpan : _options.RequestTimeout + extraTimeout;
        for (var i = owner is null ? 0 : -1; i < count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var index = i < 0 ? -1 : (start + i) % count;
            var endpoint = index < 0 ? owner! : _endpoints[index];
            if (index >= 0 && owner is not null && endpoint == owner)
            {
                continue; // The owner was tried first and failed.
            }

            using var request = CreateRequest(method, new Uri(endpoint, pathAndQuery), body, accept);
            using var timeout = attemptTimeout == Timeout.InfiniteTimeSpan ? null : new CancellationTokenSource(attemptTimeout, _timeProvider);
            using var linked = timeout is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            HttpResponseMessage response;
            try
            {
                response = await _httpClient.SendAsync(request, completion, linked?.Token ?? cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException ex) when (ex.StatusCode is null && !cancellationToken.IsCancellationRequested)
            {
                failures.Add(ex);
                OnEndpointFailed(operation, index, endpoint, ex.HttpRequestError.ToString(), ex);
                continue;
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                // The attempt timed out (ours, or the handler's connect timeout).
                var timedOut = new TimeoutException($"{operation} to {endpoint} got no answer within {attemptTimeout}.", ex);
                failures.Add(timedOut);
                OnEndpointFailed(operation, index, endpoint, "timeout", timedOut);
                continue;
            }

            // The attempt timer ends with this method: a streamed body (watch) may stay open far longer than its headers took.
            if (index >= 0)
            {
                Volatile.Write(ref _preferredEndpoint, index);
            }

            if (response.IsSuccessStatusCode)
            {
                return (response, index, endpoint);
            }

            if ((int)response.StatusCode >= 500)
            {
                // A silo that cannot serve (fenced, or a peer it forwarded to is gone): the membership may have changed.
                _ownerRouting?.RequestRefresh();
            }

            using (response)
            {
                throw await CreateErrorAsync(response, cancellationToken).ConfigureAwait(false);
            }
        }

        PresenceGridClientLog.AllEndpointsFailed(_logger, operation, count);
        throw new PresenceGridUnavailableException($"{operation} failed on all {count} endpoint(s): {string.Join("; ", failures.Select(f => f.Message))}", failures);
    }

    private HttpRequestMessage CreateRequest(HttpMethod method, Uri uri, byte[]? body, MediaTypeWithQualityHeaderValue accept)
    {
        var request = new HttpRequestMessage(method, uri)
        {
            // Set on every request: a hand-built HttpRequestMessage does not inherit HttpClient.DefaultRequestVersion.
            Version = _options.PreferHttp2 || _options.Http2PriorKnowledge ? HttpVersion.Version20 : HttpVersion.Version11,
            VersionPolicy = _options.Http2PriorKnowledge ? HttpVersionPolicy.RequestVersionExact : HttpVersionPolicy.RequestVersionOrLower,
        };
        request.Headers.Accept.Add(accept);
        if (_authorization is not null)
        {
            request.Headers.Authorization = _authorization;
        }

        if (body is not null)
        {
            var content = new ByteArrayContent(body);
            content.Headers.ContentType = JsonContentType;
            request.Content = content;
        }

        return request;
    }

    /// <summary>Logs a failed attempt and tells owner routing: an owner is skipped for a while, and either way the view is refreshed.</summary>
    private void OnEndpointFailed(string operation, int index, Uri endpoint, string reason, Exception exception)
    {
        if (index < 0)
        {
            PresenceGridClientLog.OwnerEndpointFailed(_logger, operation, endpoint, reason, exception);
            _ownerRouting!.ReportOwnerFailure(endpoint);
        }
        else
        {
            PresenceGridClientLog.EndpointFailed(_logger, operation, endpoint, reason, exception);
            _ownerRouting?.RequestRefresh();
        }
    }

    /// <summary>
    /// The endpoint that served a dropped stream may be going away: moves the preferred endpoint past it (so the next call
    /// starts with the following endpoint), or, for an owner silo (<paramref name="failedIndex"/> -1), skips it as an owner for a while.
    /// </summary>
    private void SkipEndpoint(int failedIndex, Uri endpoint)
    {
        if (failedIndex < 0)
        {
            _ownerRouting!.ReportOwnerFailure(endpoint);
            return;
        }

        Interlocked.CompareExchange(ref _preferredEndpoint, (failedIndex + 1) % _endpoints.Length, failedIndex);
    }

    private static async Task<PresenceGridApiException> CreateErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = response.StatusCode;
        string? errCode = null;
        string? error = null;
        long? retryAfterMs = null;
        try
        {
            var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            if (bytes.Length > 0)
            {
                var parsed = JsonSerializer.Deserialize(bytes, PresenceGridJsonContext.Default.ErrorResponse);
                (errCode, error, retryAfterMs) = (parsed?.ErrCode, parsed?.Error, parsed?.RetryAfterMs);
            }
        }
        catch (JsonException)
        {
            // Not a Matrix error body (a proxy's HTML page, for example): fall back to the status line below.
        }
        catch (HttpRequestException)
        {
            // The error body could not be read; the status code still tells what happened.
        }

        errCode ??= PresenceGridErrorCodes.Unknown;
        error ??= $"HTTP {(int)status} {response.ReasonPhrase}".TrimEnd();
        return status switch
        {
            HttpStatusCode.TooManyRequests => new PresenceGridRateLimitedException(errCode, error, GetRetryAfter(retryAfterMs, response)),
            HttpStatusCode.Forbidden => new PresenceGridForbiddenException(errCode, error),
            _ => new PresenceGridApiException(status, errCode, error),
        };
    }

    private static TimeSpan? GetRetryAfter(long? retryAfterMs, HttpResponseMessage response)
    {
        if (retryAfterMs is >= 0)
        {
            return TimeSpan.FromMilliseconds(retryAfterMs.Value);
        }

        return response.Headers.RetryAfter?.Delta;
    }

    /// <summary>Builds <c>path?name=value&amp;…</c>, escaping every value and skipping null ones.</summary>
    private static string WithQuery(string path, params ReadOnlySpan<(string Name, string? Value)> query)
    {
        var builder = new StringBuilder(path);
        var separator = '?';
        foreach (var (name, value) in query)
        {
            if (value is null)
            {
                continue;
            }

            builder.Append(separator).Append(name).Append('=').Append(Uri.EscapeDataString(value));
            separator = '&';
        }

        return builder.ToString();
    }

    private static string Escape(string segment) => Uri.EscapeDataString(segment);

    private static string FormatMilliseconds(TimeSpan value) =>
        ((long)value.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
}
