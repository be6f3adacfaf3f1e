using System.Net;

namespace PresenceGrid.Client;

/// <summary>The server answered 403 <c>M_FORBIDDEN</c>: the token is valid but may not do this.</summary>
public sealed class PresenceGridForbiddenException : PresenceGridApiException
{
    /// <summary>Creates a forbidden exception.</summary>
    /// <param name="errCode">The Matrix error code, normally <c>M_FORBIDDEN</c>.</param>
    /// <param name="error">The human-readable error text.</param>
    public PresenceGridForbiddenException(string errCode, string error)
        : base(HttpStatusCode.Forbidden, errCode, error)
    {
    }

    /// <inheritdoc/>
    public override bool IsTransient => false;
}
