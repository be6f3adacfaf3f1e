using System.Text.Json;
using PresenceGrid.Invocation;
using PresenceGrid.Matrix;
using PresenceGrid.Persistence;

namespace PresenceGrid.Runtime.Messaging;

/// <summary>A grain call failed on another silo with an exception this silo cannot rebuild exactly.</summary>
public sealed class RemoteGrainException : PresenceGridException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="exceptionType">The original exception's type name.</param>
    /// <param name="message">The original message.</param>
    public RemoteGrainException(string exceptionType, string message)
        : base($"{exceptionType}: {message}")
    {
        ExceptionType = exceptionType;
    }

    /// <summary>The original exception's type name.</summary>
    public string ExceptionType { get; }
}

/// <summary>
/// Carries a failed call's exception between silos as JSON: the exceptions callers act on
/// (validation with errcode and field, unavailability, overload, timeouts, state conflicts,
/// argument errors) come back as the same types; anything else as <see cref="RemoteGrainException"/>.
/// </summary>
internal static class RemoteExceptionCodec
{
    public static byte[] Encode(Exception exception) => GrainJson.ToUtf8Bytes(exception, static (writer, exception) =>
    {
        writer.WriteStartObject();
        writer.WriteString("type", exception.GetType().Name);
        writer.WriteString("message", exception.Message);
        if (exception is MatrixValidationException validation)
        {
            writer.WriteString("errcode", validation.ErrCode);
            writer.WriteString("field", validation.Field);
        }
        else if (exception is ArgumentException argument && argument.ParamName is not null)
        {
            writer.WriteString("field", argument.ParamName);
        }

        writer.WriteEndObject();
    });

    public static Exception Decode(ReadOnlySpan<byte> json)
    {
        string type = "Exception";
        string message = "";
        string? errcode = null;
        string? field = null;
        try
        {
            var reader = new Utf8JsonReader(json);
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName)
                {
                    continue;
                }

                string name = reader.GetString()!;
                reader.Read();
                string? value = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                switch (name)
                {
                    case "type": type = value ?? type; break;
                    case "message": message = value ?? ""; break;
                    case "errcode": errcode = value; break;
                    case "field": field = value; break;
                }
            }
        }
        catch (JsonException)
        {
            return new RemoteGrainException("Unknown", "the remote silo sent an unreadable failure");
        }

        return type switch
        {
            nameof(MatrixValidationException) when errcode is not null => new MatrixValidationException(errcode, field ?? "", message),
            nameof(SiloUnavailableException) => new SiloUnavailableException(message),
            nameof(GrainCallTimeoutException) or nameof(TimeoutException) => new TimeoutException(message),
            nameof(GrainStateFencedException) => new GrainStateFencedException(message),
            nameof(InconsistentStateException) => new InconsistentStateException(message, null, null),
            nameof(ArgumentOutOfRangeException) => new ArgumentOutOfRangeException(field, message),
            nameof(ArgumentNullException) => new ArgumentNullException(field, message),
            nameof(ArgumentException) => new ArgumentException(message, field),
            nameof(InvalidOperationException) => new InvalidOperationException(message),
            nameof(OperationCanceledException) or nameof(TaskCanceledException) => new OperationCanceledException(message),
            _ => new RemoteGrainException(type, message),
        };
    }
}
