using System.Net;

namespace PresenceGrid.Client;

/// <summary>
/// The base of every error this client reports for a call it made: an error answer from the server (non-2xx with
/// <c>{"errcode", "error"}</c>), a malformed answer, or no reachable endpoint. Caller mistakes throw
/// <see cref="ArgumentException"/> instead.
/// </summary>
public class PresenceGridApiException : Exception
{
    /// <summary>Creates an exception for an error answer.</summary>
    /// <param name="statusCode">The HTTP status code, or <see langword="null"/> when no answer was received.</param>
    /// <param name="errCode">The Matrix error code, for example <c>M_NOT_FOUND</c>.</param>
    /// <param name="error">The human-readable error text.</param>
    /// <param name="innerException">The underlying exception, if any.</param>
    public PresenceGridApiException(HttpStatusCode? statusCode, string errCode, string error, Exception? innerException = null)
        : base(FormatMessage(statusCode, errCode, error), innerException)
    {
        ArgumentNullException.ThrowIfNull(errCode);
        ArgumentNullException.ThrowIfNull(error);
        StatusCode = statusCode;
        ErrCode = errCode;
        Error = error;
    }

    /// <summary>The HTTP status code of the answer, or <see langword="null"/> when no answer was received.</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>The Matrix error code (<c>errcode</c>); see <see cref="PresenceGridErrorCodes"/>.</summary>
    public string ErrCode { get; }

    /// <summary>The human-readable error text (<c>error</c>).</summary>
    public string Error { get; }

    /// <summary>Whether the same call may succeed later unchanged (rate limiting, server errors, no reachable endpoint).</summary>
    public virtual bool IsTransient => StatusCode is null || (int)StatusCode.Value >= 500;

    private static string FormatMessage(HttpStatusCode? statusCode, string errCode, string error) =>
        statusCode is { } code ? $"{(int)code} {errCode}: {error}" : $"{errCode}: {error}";
}
