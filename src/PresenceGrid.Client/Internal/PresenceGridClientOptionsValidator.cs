using Microsoft.Extensions.Options;

namespace PresenceGrid.Client.Internal;

/// <summary>Checks <see cref="PresenceGridClientOptions"/>; every problem is reported at once, each naming its field.</summary>
internal sealed class PresenceGridClientOptionsValidator : IValidateOptions<PresenceGridClientOptions>
{
    private const string Prefix = nameof(PresenceGridClientOptions) + ".";

    public ValidateOptionsResult Validate(string? name, PresenceGridClientOptions options)
    {
        var failures = GetFailures(options);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Returns every problem with <paramref name="options"/>; empty when they are valid.</summary>
    public static List<string> GetFailures(PresenceGridClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        const string endpoints = Prefix + nameof(PresenceGridClientOptions.Endpoints);
        if (options.Endpoints is null || options.Endpoints.Count == 0)
        {
            failures.Add($"{endpoints} must contain at least one absolute http(s) URI.");
        }
        else
        {
            for (var i = 0; i < options.Endpoints.Count; i++)
            {
                var endpoint = options.Endpoints[i];
                if (endpoint is null || !endpoint.IsAbsoluteUri || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
                {
                    failures.Add($"{endpoints}[{i}] ('{endpoint}') must be an absolute http(s) URI.");
                }
                else if (endpoint.Query.Length > 0 || endpoint.Fragment.Length > 0)
                {
                    failures.Add($"{endpoints}[{i}] ('{endpoint}') must not have a query or a fragment.");
                }
            }
        }

        if (options.Token is { } token && (token.Length == 0 || token.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))))
        {
            failures.Add($"{Prefix}{nameof(PresenceGridClientOptions.Token)} must be null or a non-empty token without white space or control characters.");
        }

        CheckPositive(failures, options.RequestTimeout, nameof(PresenceGridClientOptions.RequestTimeout), allowInfinite: true);
        CheckPositive(failures, options.ConnectTimeout, nameof(PresenceGridClientOptions.ConnectTimeout), allowInfinite: true);
        CheckPositive(failures, options.WatchReconnectDelay, nameof(PresenceGridClientOptions.WatchReconnectDelay), allowInfinite: false);
        CheckPositive(failures, options.WatchMaxReconnectDelay, nameof(PresenceGridClientOptions.WatchMaxReconnectDelay), allowInfinite: false);
        CheckPositive(failures, options.SyncKeepAliveInterval, nameof(PresenceGridClientOptions.SyncKeepAliveInterval), allowInfinite: false);
        CheckPositive(failures, options.PlacementRefreshInterval, nameof(PresenceGridClientOptions.PlacementRefreshInterval), allowInfinite: false);
        if (options.WatchMaxReconnectDelay < options.WatchReconnectDelay)
        {
            failures.Add($"{Prefix}{nameof(PresenceGridClientOptions.WatchMaxReconnectDelay)} ({options.WatchMaxReconnectDelay}) must not be less than {nameof(PresenceGridClientOptions.WatchReconnectDelay)} ({options.WatchReconnectDelay}).");
        }

        return failures;
    }

    private static void CheckPositive(List<string> failures, TimeSpan value, string field, bool allowInfinite)
    {
        if (value <= TimeSpan.Zero && !(allowInfinite && value == Timeout.InfiniteTimeSpan))
        {
            var infinite = allowInfinite ? " (or Timeout.InfiniteTimeSpan)" : string.Empty;
            failures.Add($"{Prefix}{field} must be positive{infinite}; it is {value}.");
        }
    }
}
