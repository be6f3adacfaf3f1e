using Microsoft.Extensions.Options;

namespace PresenceGrid.Runtime.Configuration;

internal sealed class SiloOptionsValidator : IValidateOptions<SiloOptions>
{
    public ValidateOptionsResult Validate(string? name, SiloOptions options) =>
        string.IsNullOrWhiteSpace(options.SiloName)
            ? ValidateOptionsResult.Fail($"{nameof(SiloOptions)}.{nameof(SiloOptions.SiloName)} must not be empty.")
            : ValidateOptionsResult.Success;
}

internal sealed class GrainCollectionOptionsValidator : IValidateOptions<GrainCollectionOptions>
{
    public ValidateOptionsResult Validate(string? name, GrainCollectionOptions options)
    {
        var failures = new List<string>();
        const string Prefix = nameof(GrainCollectionOptions);
        if (options.CollectionQuantum <= TimeSpan.Zero)
        {
            failures.Add($"{Prefix}.{nameof(options.CollectionQuantum)} must be positive (is {options.CollectionQuantum}).");
        }

        if (options.CollectionAge <= options.CollectionQuantum)
        {
            failures.Add($"{Prefix}.{nameof(options.CollectionAge)} ({options.CollectionAge}) must be greater than {nameof(options.CollectionQuantum)} ({options.CollectionQuantum}).");
        }

        if (options.ActivationTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{Prefix}.{nameof(options.ActivationTimeout)} must be positive (is {options.ActivationTimeout}).");
        }

        if (options.DeactivationTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{Prefix}.{nameof(options.DeactivationTimeout)} must be positive (is {options.DeactivationTimeout}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

internal sealed class SiloMessagingOptionsValidator : IValidateOptions<SiloMessagingOptions>
{
    public ValidateOptionsResult Validate(string? name, SiloMessagingOptions options)
    {
        var failures = new List<string>();
        const string Prefix = nameof(SiloMessagingOptions);
        if (options.ResponseTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{Prefix}.{nameof(options.ResponseTimeout)} must be positive (is {options.ResponseTimeout}).");
        }

        if (options.MaxEnqueuedRequests < 0)
        {
            failures.Add($"{Prefix}.{nameof(options.MaxEnqueuedRequests)} must be 0 (off) or positive (is {options.MaxEnqueuedRequests}).");
        }

        if (options.MaxLocalStatelessWorkers <= 0)
        {
            failures.Add($"{Prefix}.{nameof(options.MaxLocalStatelessWorkers)} must be positive (is {options.MaxLocalStatelessWorkers}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
