namespace PresenceGrid.Client;

/// <summary>The error codes (<c>errcode</c>) a PresenceGrid server answers with, plus the client-side codes of this SDK.</summary>
public static class PresenceGridErrorCodes
{
    /// <summary>400: a parameter is missing or invalid.</summary>
    public const string InvalidParam = "M_INVALID_PARAM";

    /// <summary>400: the body is JSON of the wrong shape.</summary>
    public const string BadJson = "M_BAD_JSON";

    /// <summary>400: the body is not JSON.</summary>
    public const string NotJson = "M_NOT_JSON";

    /// <summary>401: the bearer token is not known.</summary>
    public const string UnknownToken = "M_UNKNOWN_TOKEN";

    /// <summary>401: a bearer token is required and none was sent.</summary>
    public const string MissingToken = "M_MISSING_TOKEN";

    /// <summary>403: the caller may not do this.</summary>
    public const string Forbidden = "M_FORBIDDEN";

    /// <summary>404: no such resource.</summary>
    public const string NotFound = "M_NOT_FOUND";

    /// <summary>413: the request is too large.</summary>
    public const string TooLarge = "M_TOO_LARGE";

    /// <summary>429: rate limited; see <see cref="PresenceGridRateLimitedException.RetryAfter"/>.</summary>
    public const string LimitExceeded = "M_LIMIT_EXCEEDED";

    /// <summary>An error answer without a parsable <c>errcode</c> (for example an HTML page from a proxy).</summary>
    public const string Unknown = "M_UNKNOWN";

    /// <summary>Client-side: a successful answer whose body does not match the contract.</summary>
    public const string InvalidResponse = "PG_INVALID_RESPONSE";

    /// <summary>Client-side: no endpoint could be reached; see <see cref="PresenceGridUnavailableException"/>.</summary>
    public const string Unavailable = "PG_UNAVAILABLE";
}
