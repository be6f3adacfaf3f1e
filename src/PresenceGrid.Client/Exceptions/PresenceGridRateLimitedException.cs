using System.Net;

namespace PresenceGrid.Client;

/// <summary>The server answered 429 <c>M_LIMIT_EXCEEDED</c>.</summary>
public sealed class PresenceGridRateLimitedException : PresenceGridApiException
{
    /// <summary>Creates a rate-limit exception.</summary>
    /// <param name="errCode">The Matrix error code, normally <c>M_LIMIT_EXCEEDED</c>.</param>
    /// <param name="error">The human-readable error text.</param>
    /// <param name="retryAfter">How long to wait before retrying, when the server said.</param>
    public PresenceGridRateLimitedException(string errCode, string error, TimeSpan? retryAfter)
        : base(HttpStatusCode.TooManyRequests, errCode, error)
    {
        RetryAfter = retryAfter;
    }

    /// <summary>How long to wait before retrying (<c>retry_after_ms</c>, else the <c>Retry-After</c> header), if the server said.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <inheritdoc/>
    public override bool IsTransient => true;
}
