using System.Text.Json;
using PresenceGrid.Matrix;

namespace PresenceGrid.Silo.Api;

/// <summary>An API error: HTTP status, Matrix errcode, message naming the field.</summary>
internal sealed class ApiException(int status, string errCode, string error, long? retryAfterMs = null) : Exception(error)
{
    public int Status { get; } = status;

    public string ErrCode { get; } = errCode;

    public long? RetryAfterMs { get; } = retryAfterMs;

    /// <summary>503: the grid cannot serve the request now (a silo died, or this one cannot renew its lease); retry.</summary>
    public const string Unavailable = "IO.PRESENCEGRID.UNAVAILABLE";

    public static ApiException BadJson(string field, string message) => new(400, MatrixErrorCodes.BadJson, $"{field}: {message}");

    public static ApiException InvalidParam(string field, string message) => new(400, MatrixErrorCodes.InvalidParam, $"{field}: {message}");

    /// <summary>Maps an exception from the grid to an API error.</summary>
    public static ApiException From(Exception exception) => exception switch
    {
        ApiException api => api,
        MatrixValidationException matrix => new ApiException(
            matrix.ErrCode switch
            {
                MatrixErrorCodes.Forbidden => 403,
                MatrixErrorCodes.NotFound => 404,
                MatrixErrorCodes.LimitExceeded => 429,
                _ => 400,
            },
            matrix.ErrCode == MatrixErrorCodes.Unknown ? MatrixErrorCodes.InvalidParam : matrix.ErrCode,
            string.IsNullOrEmpty(matrix.Field) || matrix.Message.StartsWith(matrix.Field, StringComparison.Ordinal) ? matrix.Message : $"{matrix.Field}: {matrix.Message}"),
        JsonException json => new ApiException(400, "M_NOT_JSON", $"body: not valid JSON: {json.Message}"),
        ArgumentException argument when argument.Message.Contains("status_msg", StringComparison.Ordinal) =>
            new ApiException(400, MatrixErrorCodes.InvalidParam, argument.Message),
        // The grain's silo died and is not yet declared dead, or Orleans refused the message: worth retrying, here or on another silo.
        OrleansMessageRejectionException rejected => new ApiException(503, Unavailable, $"the grid cannot serve this request now, retry: {rejected.Message}", 1000),
        // No answer within Orleans' response timeout: the outcome is unknown; retrying is safe (a PUT sets, it does not add).
        TimeoutException timeout => new ApiException(503, Unavailable, $"the grid did not answer in time, the outcome is unknown; retry: {timeout.Message}", 1000),
        // The grain storage's database is unreachable: the change was not acknowledged.
        System.Data.Common.DbException => new ApiException(503, Unavailable, "the grid cannot store the change now (its database is unreachable); nothing changed, retry", 1000),
        _ => new ApiException(500, MatrixErrorCodes.Unknown, "internal error; see the silo's log"),
    };

    public async Task WriteAsync(HttpResponse response)
    {
        response.StatusCode = Status;
        response.ContentType = "application/json";
        if (RetryAfterMs is { } retry)
        {
            response.Headers.RetryAfter = ((retry + 999) / 1000).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        await using var writer = new Utf8JsonWriter(response.Body);
        writer.WriteStartObject();
        writer.WriteString("errcode", ErrCode);
        writer.WriteString("error", Message);
        if (RetryAfterMs is { } ms)
        {
            writer.WriteNumber("retry_after_ms", ms);
        }

        writer.WriteEndObject();
    }
}
