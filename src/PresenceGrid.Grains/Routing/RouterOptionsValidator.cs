using Microsoft.Extensions.Options;
using PresenceGrid.Modules;

namespace PresenceGrid.Routing;

/// <summary>Validates <see cref="RouterOptions"/> at start-up.</summary>
internal sealed class RouterOptionsValidator : IValidateOptions<RouterOptions>
{
    public ValidateOptionsResult Validate(string? name, RouterOptions options)
    {
        if (options.ModuleCallbackTimeout <= TimeSpan.Zero && options.ModuleCallbackTimeout != Timeout.InfiniteTimeSpan)
        {
            return ValidateOptionsResult.Fail(
                $"{nameof(RouterOptions)}.{nameof(RouterOptions.ModuleCallbackTimeout)} must be positive (or infinite), but is {options.ModuleCallbackTimeout}.");
        }

        if (options.ModuleCallbackTimeout != Timeout.InfiniteTimeSpan && options.ModuleCallbackTimeout.TotalMilliseconds > uint.MaxValue - 1)
        {
            return ValidateOptionsResult.Fail(
                $"{nameof(RouterOptions)}.{nameof(RouterOptions.ModuleCallbackTimeout)} is too large: {options.ModuleCallbackTimeout}.");
        }

        return ValidateOptionsResult.Success;
    }
}
