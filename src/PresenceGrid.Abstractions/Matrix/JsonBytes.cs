using System.Buffers;
using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace PresenceGrid.Matrix;

/// <summary>
/// JSON helpers. Type info comes from the options' resolver (source
/// generated contexts in production), so no reflection runs per call when one is configured.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class JsonBytes
{
    // A buffer that grew past this is dropped after use rather than kept by the thread.
    private const int MaxRetainedScratchBytes = 64 * 1024;

    [ThreadStatic]
    private static JsonScratch? t_scratch;

    /// <summary>
    /// Writes JSON through this thread's reusable buffer and writer and returns exactly the bytes
    /// written: a message body costs one array, not a growing buffer and a writer per message.
    /// </summary>
    /// <typeparam name="TState">What <paramref name="write"/> needs (a value tuple keeps it allocation-free).</typeparam>
    /// <param name="state">Passed to <paramref name="write"/>.</param>
    /// <param name="write">Writes one JSON value; it may call this method again (the nested call gets its own buffer).</param>
    /// <returns>The UTF-8 JSON.</returns>
    public static byte[] ToUtf8Bytes<TState>(TState state, Action<Utf8JsonWriter, TState> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        JsonScratch? scratch = t_scratch;
        t_scratch = null; // taken: a nested call on this thread makes its own
        scratch ??= new JsonScratch();
        try
        {
            scratch.Writer.Reset(scratch.Buffer);
            write(scratch.Writer, state);
            scratch.Writer.Flush();
            return scratch.Buffer.WrittenSpan.ToArray();
        }
        finally
        {
            scratch.Buffer.ResetWrittenCount();
            if (scratch.Buffer.Capacity <= MaxRetainedScratchBytes)
            {
                t_scratch = scratch;
            }
        }
    }

    /// <summary>Writes <paramref name="value"/>.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="writer">The writer.</param>
    /// <param name="value">The value.</param>
    /// <param name="options">The options.</param>
    public static void Write<T>(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
        JsonSerializer.Serialize(writer, value, (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T)));

    /// <summary>Reads one value and moves past it.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="reader">The reader, before the value.</param>
    /// <param name="options">The options.</param>
    /// <returns>The value.</returns>
    public static T Read<T>(ref Utf8JsonReader reader, JsonSerializerOptions options)
    {
        if (!reader.Read())
        {
            throw new JsonException($"Expected a value of type {typeof(T).Name}, found the end of the arguments.");
        }

        return JsonSerializer.Deserialize(ref reader, (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T)))!;
    }

    /// <summary>Checks that the reader is on (or moves it to) the start of the arguments array.</summary>
    /// <param name="reader">The reader.</param>
    public static void ReadStartArray(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.None && !reader.Read())
        {
            throw new JsonException("Expected the arguments array, found nothing.");
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException($"Expected the arguments array, found {reader.TokenType}.");
        }
    }

    /// <summary>Checks that the arguments array ends here.</summary>
    /// <param name="reader">The reader, after the last argument.</param>
    public static void ReadEndArray(ref Utf8JsonReader reader)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.EndArray)
        {
            throw new JsonException("Expected the end of the arguments array: too many arguments.");
        }
    }

    private sealed class JsonScratch
    {
        public ArrayBufferWriter<byte> Buffer { get; } = new(256);

        public Utf8JsonWriter Writer { get; } = new(Stream.Null);
    }
}
