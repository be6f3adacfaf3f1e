using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;

namespace PresenceGrid.Silo.Api;

/// <summary>JSON in and out without reflection: bodies are read as <see cref="JsonDocument"/>, answers written with <see cref="Utf8JsonWriter"/>.</summary>
internal static class Json
{
    /// <summary>The largest request body accepted (federation EDUs included).</summary>
    public const int MaxBodyBytes = 1 << 20;

    private static readonly ReadOnlyMemory<byte> EmptyObject = "{}"u8.ToArray();

    public static Task<JsonDocument> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken) =>
        ReadBodyAsync(request, MaxBodyBytes, cancellationToken);

    /// <summary>Reads a JSON object body of at most <paramref name="maxBytes"/> bytes (an endpoint with a larger limit than <see cref="MaxBodyBytes"/>).</summary>
    public static async Task<JsonDocument> ReadBodyAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        if (maxBytes != MaxBodyBytes && request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = maxBytes;
        }

        if (request.ContentLength > maxBytes)
        {
            throw new ApiException(413, "M_TOO_LARGE", $"body: larger than {maxBytes} bytes.");
        }

        JsonDocument document;
        try
        {
            // Kestrel enforces MaxBodyBytes (Limits.MaxRequestBodySize) while the body streams in.
            document = await JsonDocument.ParseAsync(request.Body, default, cancellationToken);
        }
        catch (BadHttpRequestException exception) when (exception.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw new ApiException(413, "M_TOO_LARGE", $"body: larger than {maxBytes} bytes.");
        }
        catch (BadHttpRequestException exception)
        {
            // The body's framing is broken (a bad chunk, a body shorter than its Content-Length): bad input, not a 500.
            throw new ApiException(exception.StatusCode, "M_NOT_JSON", $"body: could not be read: {exception.Message}");
        }
        catch (JsonException exception)
        {
            throw new ApiException(400, "M_NOT_JSON", $"body: not valid JSON: {exception.Message}");
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            throw ApiException.BadJson("body", "must be a JSON object.");
        }

        // The parser checks the structure but not the text inside strings: invalid UTF-8 or an unpaired \u surrogate
        // escape only fails when a string is read. Every name and string is read here, once, so that no handler (or
        // the grid behind it) meets an undecodable string later.
        var path = new List<string>();
        if (!IsDecodable(document.RootElement, path))
        {
            document.Dispose();
            path.Reverse();
            throw new ApiException(400, "M_NOT_JSON", $"body{string.Concat(path)}: a string is not valid UTF-8 (or has an unpaired \\u surrogate escape).");
        }

        return document;
    }

    /// <summary>Whether every property name and string under <paramref name="element"/> decodes; if not, <paramref name="path"/> gets the bad one's path, innermost segment first.</summary>
    private static bool IsDecodable(JsonElement element, List<string> path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return Decodes(element);
            case JsonValueKind.Array:
                int index = 0;
                foreach (JsonElement item in element.EnumerateArray())
                {
                    if (!IsDecodable(item, path))
                    {
                        path.Add($"[{index}]");
                        return false;
                    }

                    index++;
                }

                return true;
            case JsonValueKind.Object:
                foreach (JsonProperty property in element.EnumerateObject())
                {
                    if (!Decodes(property))
                    {
                        path.Add(" (a field name)");
                        return false;
                    }

                    if (!IsDecodable(property.Value, path))
                    {
                        path.Add($".{property.Name}");
                        return false;
                    }
                }

                return true;
            default:
                return true;
        }
    }

    // InvalidOperationException is how the document says it cannot transcode a string.
    private static bool Decodes(JsonElement text)
    {
        try
        {
            _ = text.GetString();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static bool Decodes(JsonProperty property)
    {
        try
        {
            _ = property.Name;
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    public static string RequiredString(JsonElement body, string field)
    {
        if (!body.TryGetProperty(field, out JsonElement value))
        {
            throw ApiException.BadJson(field, "is required.");
        }

        return value.ValueKind == JsonValueKind.String ? value.GetString()! : throw ApiException.BadJson(field, "must be a string.");
    }

    public static string? OptionalString(JsonElement body, string field)
    {
        if (!body.TryGetProperty(field, out JsonElement value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String ? value.GetString() : throw ApiException.BadJson(field, "must be a string.");
    }

    public static void OnlyKeys(JsonElement body, params string[] allowed)
    {
        foreach (JsonProperty property in body.EnumerateObject())
        {
            if (Array.IndexOf(allowed, property.Name) < 0)
            {
                throw ApiException.BadJson(property.Name, $"unknown field; allowed: {string.Join(", ", allowed)}.");
            }
        }
    }

    public static async Task WriteAsync(HttpResponse response, Action<Utf8JsonWriter> write, int status = 200)
    {
        response.StatusCode = status;
        response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(response.Body);
        write(writer);
    }

    public static Task WriteEmptyAsync(HttpResponse response)
    {
        response.StatusCode = 200;
        response.ContentType = "application/json";
        response.ContentLength = EmptyObject.Length;
        return response.Body.WriteAsync(EmptyObject).AsTask();
    }
}
