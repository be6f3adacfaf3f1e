using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace PresenceGrid.Cluster.Handshake;

/// <summary>
/// Ends a client's start-up when a gateway refused the cluster-secret handshake, with an error
/// that says so (a wrong or missing secret does not heal by retrying; Orleans' default filter
/// would retry for minutes). Every other failure goes to the retry filter registered before
/// (Orleans' linear back-off by default).
/// </summary>
internal sealed class ClusterSecretRetryFilter : IClientConnectionRetryFilter
{
    private readonly IClientConnectionRetryFilter? _inner;

    private ClusterSecretRetryFilter(IClientConnectionRetryFilter? inner)
    {
        _inner = inner;
    }

    /// <summary>Wraps the retry filter registered so far in <paramref name="services"/>.</summary>
    /// <param name="services">The client's services.</param>
    public static void Register(IServiceCollection services)
    {
        ServiceDescriptor? previous = services.LastOrDefault(d => d.ServiceType == typeof(IClientConnectionRetryFilter));
        services.RemoveAll<IClientConnectionRetryFilter>();
        services.AddSingleton<IClientConnectionRetryFilter>(provider => new ClusterSecretRetryFilter(
            previous switch
            {
                null => null,
                { ImplementationInstance: IClientConnectionRetryFilter instance } => instance,
                { ImplementationFactory: { } factory } => (IClientConnectionRetryFilter)factory(provider),
                _ => (IClientConnectionRetryFilter)ActivatorUtilities.CreateInstance(provider, previous.ImplementationType!),
            }));
    }

    /// <inheritdoc />
    /// <exception cref="ClusterSecretHandshakeException">A gateway refused the handshake.</exception>
    public Task<bool> ShouldRetryConnectionAttempt(Exception exception, CancellationToken cancellationToken)
    {
        if (FindRefusal(exception) is { } refusal)
        {
            throw new ClusterSecretHandshakeException(
                refusal.Failure,
                $"{refusal.Message}. The client stops connecting: check cluster.secret (and the cluster id) against the silos'.",
                exception);
        }

        return _inner?.ShouldRetryConnectionAttempt(exception, cancellationToken) ?? Task.FromResult(false);
    }

    /// <summary>The handshake refusal Orleans' connection failure wraps (a timeout is not one: it may heal).</summary>
    private static ClusterSecretHandshakeException? FindRefusal(Exception? exception)
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            if (exception is ClusterSecretHandshakeException { Failure: not HandshakeFailure.Timeout } refusal)
            {
                return refusal;
            }
        }

        return null;
    }
}
