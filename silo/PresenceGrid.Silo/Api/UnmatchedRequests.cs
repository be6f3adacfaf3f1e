using Microsoft.AspNetCore.Routing.Template;
using PresenceGrid.Matrix;

namespace PresenceGrid.Silo.Api;

/// <summary>
/// The answer to a request no endpoint takes, in the documented <c>{"errcode","error"}</c> shape: 405
/// <c>M_UNRECOGNIZED</c> with <c>Allow</c> when the path exists with other methods (the fallback route would otherwise
/// answer 404 for those too), else 404 <c>M_NOT_FOUND</c>.
/// </summary>
internal sealed class UnmatchedRequests(IEndpointRouteBuilder routes)
{
    /// <summary>Matrix's errcode for a request the server does not recognise (an unknown method on a known path).</summary>
    public const string Unrecognized = "M_UNRECOGNIZED";

    private (TemplateMatcher Path, IReadOnlyList<string> Methods)[]? _endpoints;

    public Task WriteAsync(HttpContext context)
    {
        string what = $"{context.Request.Method} {context.Request.Path}";
        string[] allowed = [.. Endpoints()
            .Where(e => e.Methods.Count > 0 && e.Path.TryMatch(context.Request.Path, []))
            .SelectMany(e => e.Methods)
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .Order(StringComparer.Ordinal)];
        if (allowed.Length == 0)
        {
            return new ApiException(404, MatrixErrorCodes.NotFound, $"{what}: no such endpoint.").WriteAsync(context.Response);
        }

        context.Response.Headers.Allow = string.Join(", ", allowed);
        return new ApiException(405, Unrecognized, $"{what}: method not allowed; this path takes {string.Join(", ", allowed)}.").WriteAsync(context.Response);
    }

    /// <summary>Every routed endpoint's path template and methods, read once (all are mapped before the first request).</summary>
    private (TemplateMatcher Path, IReadOnlyList<string> Methods)[] Endpoints() => _endpoints ??= [.. routes.DataSources
        .SelectMany(source => source.Endpoints)
        .OfType<RouteEndpoint>()
        .Where(e => e.RoutePattern.RawText is not null && e.Metadata.GetMetadata<HttpMethodMetadata>() is not null)
        .Select(e => (
            new TemplateMatcher(TemplateParser.Parse(e.RoutePattern.RawText!), new RouteValueDictionary()),
            e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods))];
}
