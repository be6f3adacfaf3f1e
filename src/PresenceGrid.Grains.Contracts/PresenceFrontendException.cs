namespace PresenceGrid.Grains.Contracts;

/// <summary>
/// An error of <see cref="IPresenceFrontendGrain"/>, as the HTTP API would answer it: <see cref="Status"/> is the HTTP
/// status it answers with (400 bad input, 403 forbidden, 404 unknown, 429 rate limited, 503 unavailable, 500 internal),
/// <see cref="ErrCode"/> the Matrix <c>errcode</c> and <see cref="Exception.Message"/> the <c>error</c>, naming the field.
/// Nothing was changed.
/// </summary>
[GenerateSerializer]
[Alias("presencegrid.PresenceFrontendException")]
public sealed class PresenceFrontendException : Exception
{
    /// <summary>Creates an empty error (for the serializer).</summary>
    public PresenceFrontendException()
    {
    }

    /// <summary>Creates an error with a message and no status (500, <c>M_UNKNOWN</c>).</summary>
    /// <param name="message">The error text.</param>
    public PresenceFrontendException(string message)
        : this(500, "M_UNKNOWN", message)
    {
    }

    /// <summary>Creates an error with a message and the exception it wraps (500, <c>M_UNKNOWN</c>).</summary>
    /// <param name="message">The error text.</param>
    /// <param name="innerException">The cause.</param>
    public PresenceFrontendException(string message, Exception innerException)
        : base(message, innerException)
    {
        Status = 500;
        ErrCode = "M_UNKNOWN";
    }

    /// <summary>Creates an error as the HTTP API answers it.</summary>
    /// <param name="status">The HTTP status.</param>
    /// <param name="errCode">The Matrix error code.</param>
    /// <param name="error">The error text, naming the field.</param>
    /// <param name="retryAfterMs">How long to wait before retrying, when known.</param>
    public PresenceFrontendException(int status, string errCode, string error, long? retryAfterMs = null)
        : base(error)
    {
        Status = status;
        ErrCode = errCode;
        RetryAfterMs = retryAfterMs;
    }

    /// <summary>The HTTP status the API answers this error with.</summary>
    [Id(0)]
    public int Status { get; init; }

    /// <summary>The Matrix error code (<c>errcode</c>).</summary>
    [Id(1)]
    public string ErrCode { get; init; } = "M_UNKNOWN";

    /// <summary>How long to wait before retrying (<c>retry_after_ms</c>), when known.</summary>
    [Id(2)]
    public long? RetryAfterMs { get; init; }
}
