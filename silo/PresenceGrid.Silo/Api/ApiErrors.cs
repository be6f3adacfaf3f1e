using System.Text.Json;
using PresenceGrid.Frontend;
using PresenceGrid.Matrix;

namespace PresenceGrid.Silo.Api;

/// <summary>An API error: HTTP status, Matrix errcode, message naming the field.</summary>
internal sealed class ApiException(int status, string errCode, string error, long? retryAfterMs = null) : Exception(error)
{
    public int Status { get; } = status;

    public string ErrCode { get; } = errCode;

    public long? RetryAfterMs { get; } = retryAfterMs;

    /// <summary>503: the grid cannot serve the request now (a silo died, or this one cannot renew its lease); retry.</summary>
    public const string Unavailable = FrontendError.Unavailable;

    public static ApiException BadJson(string field, string message) => new(400, MatrixErrorCodes.BadJson, $"{field}: {message}");

    public static ApiException InvalidParam(string field, string message) => new(400, MatrixErrorCodes.InvalidParam, $"{field}: {message}");

    /// <summary>Maps an exception from the grid to an API error (<see cref="FrontendError.From"/>, shared with the frontend grain).</summary>
    public static ApiException From(Exception exception)
    {
        if (exception is ApiException api)
        {
            return api;
        }

        return From(FrontendError.From(exception));
    }

    /// <summary>A frontend error as an API error.</summary>
    public static ApiException From(FrontendError error) => new(error.Status, error.ErrCode, error.Error, error.RetryAfterMs);

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
