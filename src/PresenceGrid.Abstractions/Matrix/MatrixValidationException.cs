namespace PresenceGrid.Matrix;

/// <summary>
/// Thrown when a Matrix identifier, a client request body or a federation payload fails validation.
/// It carries the Matrix <see cref="ErrCode"/> to return and the name of the offending <see cref="Field"/>.
/// </summary>
public sealed class MatrixValidationException : Exception
{
    /// <summary>Creates an exception with the default errcode <see cref="MatrixErrorCodes.InvalidParam"/>.</summary>
    public MatrixValidationException()
        : this(MatrixErrorCodes.InvalidParam, string.Empty, "Invalid parameter.")
    {
    }

    /// <summary>Creates an exception with the given message and errcode <see cref="MatrixErrorCodes.InvalidParam"/>.</summary>
    /// <param name="message">The human-readable error.</param>
    public MatrixValidationException(string message)
        : this(MatrixErrorCodes.InvalidParam, string.Empty, message)
    {
    }

    /// <summary>Creates an exception wrapping an inner exception, with errcode <see cref="MatrixErrorCodes.InvalidParam"/>.</summary>
    /// <param name="message">The human-readable error.</param>
    /// <param name="innerException">The underlying cause.</param>
    public MatrixValidationException(string message, Exception innerException)
        : base(message, innerException)
    {
        ErrCode = MatrixErrorCodes.InvalidParam;
        Field = string.Empty;
    }

    /// <summary>Creates an exception for a specific field.</summary>
    /// <param name="errCode">The Matrix errcode, for example <c>M_INVALID_PARAM</c> or <c>M_BAD_JSON</c>.</param>
    /// <param name="field">The name of the offending field, for example <c>user_id</c>.</param>
    /// <param name="message">The human-readable error; it should name the field.</param>
    public MatrixValidationException(string errCode, string field, string message)
        : base(message)
    {
        ErrCode = errCode;
        Field = field;
    }

    /// <summary>The Matrix errcode (for example <c>M_INVALID_PARAM</c>, <c>M_BAD_JSON</c>, <c>M_MISSING_PARAM</c>).</summary>
    public string ErrCode { get; }

    /// <summary>The name of the offending field, or an empty string when no single field is to blame.</summary>
    public string Field { get; }
}
