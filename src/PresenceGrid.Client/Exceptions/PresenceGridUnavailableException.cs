namespace PresenceGrid.Client;

/// <summary>
/// No endpoint could be reached: every configured endpoint failed with a connection error or timed out.
/// <see cref="InnerExceptions"/> holds one failure per endpoint tried, in the order tried.
/// </summary>
public sealed class PresenceGridUnavailableException : PresenceGridApiException
{
    /// <summary>Creates an unavailable exception.</summary>
    /// <param name="error">What was attempted, for example <c>"GET sync failed on all 2 endpoints"</c>.</param>
    /// <param name="innerExceptions">One failure per endpoint tried.</param>
    public PresenceGridUnavailableException(string error, IReadOnlyList<Exception> innerExceptions)
        : base(null, PresenceGridErrorCodes.Unavailable, error, new AggregateException(innerExceptions))
    {
        InnerExceptions = innerExceptions;
    }

    /// <summary>One failure per endpoint tried, in the order tried.</summary>
    public IReadOnlyList<Exception> InnerExceptions { get; }

    /// <inheritdoc/>
    public override bool IsTransient => true;
}
