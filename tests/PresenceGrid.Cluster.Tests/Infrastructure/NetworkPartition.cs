using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;
using Orleans.Configuration;

namespace PresenceGrid.Cluster.Tests.Infrastructure;

/// <summary>
/// Cuts one silo off the network while its process lives on, like a pulled cable or a killed
/// machine: every open connection of the silo is aborted and every new one refused. Nothing tells
/// the others it is gone, so only failure detection (probes, votes) can declare it dead.
/// </summary>
public sealed class NetworkPartition
{
    private readonly ConcurrentDictionary<string, Silo> _silos = new();

    /// <summary>Routes all the connections of the silo named <paramref name="siloName"/> (silo in and out, gateway) through the partition.</summary>
    public void Apply(ISiloBuilder silo, string siloName)
    {
        Silo state = _silos.GetOrAdd(siloName, _ => new Silo());
        silo.Configure<SiloConnectionOptions>(options =>
        {
            options.ConfigureSiloInboundConnection(state.Use);
            options.ConfigureSiloOutboundConnection(state.Use);
            options.ConfigureGatewayInboundConnection(state.Use);
        });
    }

    public void Cut(string siloName) => _silos[siloName].Cut();

    private sealed class Silo
    {
        private readonly ConcurrentDictionary<ConnectionContext, byte> _open = new();
        private volatile bool _cut;

        public void Cut()
        {
            _cut = true;
            foreach (ConnectionContext connection in _open.Keys)
            {
                connection.Abort(new ConnectionAbortedException("Network partition (test)."));
            }
        }

        public void Use(IConnectionBuilder builder) => builder.Use(next => async context =>
        {
            _open[context] = 0;
            try
            {
                if (_cut)
                {
                    context.Abort(new ConnectionAbortedException("Network partition (test)."));
                    throw new ConnectionAbortedException("Network partition (test).");
                }

                await next(context);
            }
            finally
            {
                _open.TryRemove(context, out _);
            }
        });
    }
}
