namespace PresenceGrid.Runtime.Networking;

/// <summary>
/// A handshake failed because the two silos are not of one cluster: another cluster id, or a secret
/// one side could not prove or would not accept. The peer answered, so retrying cannot help.
/// </summary>
internal sealed class SiloAuthenticationException : IOException
{
    public SiloAuthenticationException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }

    /// <summary>True when <paramref name="exception"/> or one of its inner exceptions is an authentication failure.</summary>
    public static bool IsCauseOf(Exception? exception)
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            if (current is SiloAuthenticationException)
            {
                return true;
            }
        }

        return false;
    }
}
