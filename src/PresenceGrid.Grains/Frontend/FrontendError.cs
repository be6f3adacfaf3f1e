using System.Text.Json;
using PresenceGrid.Grains.Contracts;
using PresenceGrid.Matrix;

namespace PresenceGrid.Frontend;

/// <summary>
/// An error as every frontend answers it (the HTTP API and <see cref="IPresenceFrontendGrain"/>): the HTTP status, the
/// Matrix <c>errcode</c>, the message naming the field, and when to retry. One mapping for both transports.
/// </summary>
/// <param name="Status">The HTTP status.</param>
/// <param name="ErrCode">The Matrix error code.</param>
/// <param name="Error">What is wrong, naming the field.</param>
/// <param name="RetryAfterMs">How long to wait before retrying, when known.</param>
internal sealed record FrontendError(int Status, string ErrCode, string Error, long? RetryAfterMs = null)
{
    /// <summary>503: the grid cannot serve the request now (a silo died, or this one cannot renew its lease); retry.</summary>
    public const string Unavailable = "IO.PRESENCEGRID.UNAVAILABLE";

    /// <summary>429 for a presence change refused by <c>rc_presence</c>.</summary>
    /// <param name="retryAfterMs">When the next change is allowed.</param>
    /// <returns>The error.</returns>
    public static FrontendError PresenceRateLimited(long? retryAfterMs) =>
        new(429, MatrixErrorCodes.LimitExceeded, "presence: too many changes; retry later.", retryAfterMs);

    /// <summary>Maps an exception from the grid to the error a frontend answers.</summary>
    /// <param name="exception">What the grid threw.</param>
    /// <returns>The error; status 500 for anything unexpected (log it).</returns>
    public static FrontendError From(Exception exception) => exception switch
    {
        PresenceFrontendException frontend => new FrontendError(frontend.Status, frontend.ErrCode, frontend.Message, frontend.RetryAfterMs),
        MatrixValidationException matrix => new FrontendError(
            matrix.ErrCode switch
            {
                MatrixErrorCodes.Forbidden => 403,
                MatrixErrorCodes.NotFound => 404,
                MatrixErrorCodes.LimitExceeded => 429,
                _ => 400,
            },
            matrix.ErrCode == MatrixErrorCodes.Unknown ? MatrixErrorCodes.InvalidParam : matrix.ErrCode,
            string.IsNullOrEmpty(matrix.Field) || matrix.Message.StartsWith(matrix.Field, StringComparison.Ordinal) ? matrix.Message : $"{matrix.Field}: {matrix.Message}"),
        JsonException json => new FrontendError(400, "M_NOT_JSON", $"body: not valid JSON: {json.Message}"),
        ArgumentException argument when argument.Message.Contains("status_msg", StringComparison.Ordinal) =>
            new FrontendError(400, MatrixErrorCodes.InvalidParam, argument.Message),
        // The grain's silo died and is not yet declared dead, or Orleans refused the message: worth retrying, here or on another silo.
        OrleansMessageRejectionException rejected => new FrontendError(503, Unavailable, $"the grid cannot serve this request now, retry: {rejected.Message}", 1000),
        // No answer within Orleans' response timeout: the outcome is unknown; retrying is safe (a PUT sets, it does not add).
        TimeoutException timeout => new FrontendError(503, Unavailable, $"the grid did not answer in time, the outcome is unknown; retry: {timeout.Message}", 1000),
        // The grain storage's database is unreachable: the change was not acknowledged.
        System.Data.Common.DbException => new FrontendError(503, Unavailable, "the grid cannot store the change now (its database is unreachable); nothing changed, retry", 1000),
        _ => new FrontendError(500, MatrixErrorCodes.Unknown, "internal error; see the silo's log"),
    };

    /// <summary>The errcode of a rejected federation item as answered (an item error is never <c>M_UNKNOWN</c>).</summary>
    /// <param name="errCode">The item's errcode.</param>
    /// <returns>The errcode to answer.</returns>
    public static string ItemErrCode(string errCode) => errCode == MatrixErrorCodes.Unknown ? MatrixErrorCodes.InvalidParam : errCode;

    /// <summary>This error for an Orleans client.</summary>
    /// <returns>The exception carried to the client.</returns>
    public PresenceFrontendException ToException() => new(Status, ErrCode, Error, RetryAfterMs);
}
