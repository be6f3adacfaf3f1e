namespace PresenceGrid;

/// <summary>The base of PresenceGrid's own exceptions.</summary>
public class PresenceGridException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PresenceGridException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What happened.</param>
    public PresenceGridException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">What happened.</param>
    /// <param name="innerException">The cause.</param>
    public PresenceGridException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
