using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace PresenceGrid.Silo.Api;

/// <summary>
/// The request-line and header limits, refused in the API's error shape. Kestrel refuses a request over its own limits
/// before any middleware runs, with an empty body (414, 431); so Kestrel's limits are set above the documented ones and
/// the first middleware refuses what exceeds the documented ones with <c>{"errcode","error"}</c>. Past Kestrel's limits
/// (a request line over <see cref="KestrelRequestLineBytes"/>, headers over <see cref="KestrelHeaderBytes"/> or
/// <see cref="KestrelHeaderCount"/>), Kestrel still answers alone, with an empty body: those bound the memory a
/// connection can hold.
/// </summary>
internal static class RequestLimits
{
    /// <summary>The longest request target (path and query, as sent), in bytes: 414 beyond.</summary>
    public const int MaxTargetBytes = 8 * 1024;

    /// <summary>The most header bytes (each header counted as <c>name: value</c> and its line end): 431 beyond.</summary>
    public const int MaxHeaderBytes = 32 * 1024;

    /// <summary>The most headers: 431 beyond.</summary>
    public const int MaxHeaderCount = 100;

    /// <summary>Kestrel's request-line limit, past which it refuses by itself.</summary>
    public const int KestrelRequestLineBytes = 64 * 1024;

    /// <summary>Kestrel's header-size limit, past which it refuses by itself.</summary>
    public const int KestrelHeaderBytes = 128 * 1024;

    /// <summary>Kestrel's header-count limit, past which it refuses by itself.</summary>
    public const int KestrelHeaderCount = 400;

    /// <summary>Sets Kestrel's limits above the documented ones, so that <see cref="Use"/> sees the requests between the two.</summary>
    /// <param name="limits">Kestrel's limits.</param>
    public static void Configure(KestrelServerLimits limits)
    {
        limits.MaxRequestLineSize = KestrelRequestLineBytes;
        limits.MaxRequestHeadersTotalSize = KestrelHeaderBytes;
        limits.MaxRequestHeaderCount = KestrelHeaderCount;
    }

    /// <summary>Adds the middleware that refuses requests over the documented limits; it must run first.</summary>
    /// <param name="app">The application.</param>
    public static void Use(WebApplication app) => app.Use(async (context, next) =>
    {
        if (Check(context) is { } error)
        {
            await error.WriteAsync(context.Response);
            return;
        }

        await next(context);
    });

    private static ApiException? Check(HttpContext context)
    {
        string target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? string.Empty;
        if (target.Length > MaxTargetBytes)
        {
            return new ApiException(StatusCodes.Status414UriTooLong, "M_TOO_LARGE", $"request target: {target.Length} bytes; at most {MaxTargetBytes} (path and query).");
        }

        IHeaderDictionary headers = context.Request.Headers;
        if (headers.Count > MaxHeaderCount)
        {
            return new ApiException(StatusCodes.Status431RequestHeaderFieldsTooLarge, "M_TOO_LARGE", $"headers: {headers.Count} headers; at most {MaxHeaderCount}.");
        }

        long bytes = 0;
        foreach (KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues> header in headers)
        {
            foreach (string? value in header.Value)
            {
                bytes += header.Key.Length + (value?.Length ?? 0) + 4;
            }
        }

        return bytes > MaxHeaderBytes
            ? new ApiException(StatusCodes.Status431RequestHeaderFieldsTooLarge, "M_TOO_LARGE", $"headers: {bytes} bytes; at most {MaxHeaderBytes}.")
            : null;
    }
}
