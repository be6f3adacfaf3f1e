namespace PresenceGrid.Matrix;

/// <summary>Matrix <c>errcode</c> values used by the presence domain.</summary>
public static class MatrixErrorCodes
{
    /// <summary>A parameter had a well-typed but invalid value.</summary>
    public const string InvalidParam = "M_INVALID_PARAM";

    /// <summary>A JSON value had the wrong type or the body was not valid JSON.</summary>
    public const string BadJson = "M_BAD_JSON";

    /// <summary>A required parameter was missing.</summary>
    public const string MissingParam = "M_MISSING_PARAM";

    /// <summary>Synapse's default errcode for a plain 400 (for example "Invalid presence state").</summary>
    public const string Unknown = "M_UNKNOWN";

    /// <summary>The requester may not do or see this (HTTP 403).</summary>
    public const string Forbidden = "M_FORBIDDEN";

    /// <summary>Too many requests (HTTP 429).</summary>
    public const string LimitExceeded = "M_LIMIT_EXCEEDED";

    /// <summary>Not found (HTTP 404).</summary>
    public const string NotFound = "M_NOT_FOUND";
}
