using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace PresenceGrid.Cluster.Handshake;

/// <summary>Adds the cluster-secret handshake to one of Orleans' connection builders.</summary>
internal static class ClusterSecretConnectionBuilderExtensions
{
    /// <summary>
    /// Adds the handshake as the next middleware of <paramref name="builder"/>; the key is derived
    /// once per builder, from the secret and the host's <see cref="ClusterOptions.ClusterId"/>.
    /// </summary>
    /// <param name="builder">A silo inbound, silo outbound, gateway inbound or client connection builder.</param>
    /// <param name="role">This side's role on those connections.</param>
    /// <param name="secret">The shared cluster secret.</param>
    /// <param name="timeout">The handshake deadline.</param>
    public static void UseClusterSecretHandshake(this IConnectionBuilder builder, HandshakeRole role, string secret, TimeSpan timeout)
    {
        IServiceProvider services = builder.ApplicationServices;
        string clusterId = services.GetRequiredService<IOptions<ClusterOptions>>().Value.ClusterId;
        TimeProvider timeProvider = services.GetService<TimeProvider>() ?? TimeProvider.System;
        ILoggerFactory loggerFactory = services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;
        var handshake = new ClusterSecretHandshake(
            role,
            new ClusterSecretProof(secret, clusterId),
            timeout,
            timeProvider,
            loggerFactory.CreateLogger<ClusterSecretHandshake>());
        builder.Use(next => context => handshake.OnConnectionAsync(context, next));
    }
}
