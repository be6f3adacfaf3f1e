using System.Collections.Immutable;
using Orleans.Runtime.Services;
using PresenceGrid.Matrix;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace PresenceGrid.Replication;

/// <inheritdoc cref="IPresenceReplicaService"/>
/// <remarks>
/// When the silo becomes active it also rebuilds the presence view from grain storage (room memberships and stored
/// states), then once more after <see cref="PresenceReplication.SecondScanDelay"/> for what peers stored before they
/// saw this silo. Reentrant: every call only hands its payload to thread-safe silo services.
/// </remarks>
[Reentrant]
internal sealed class PresenceReplicaService(GrainId grainId, Silo silo, ILoggerFactory loggerFactory, PresenceReplication replication, Grains.MirrorIngest mirrors)
    : GrainService(grainId, silo, loggerFactory), IPresenceReplicaService
{
    public override async Task Start()
    {
        await base.Start();
        await replication.BootstrapAsync(CancellationToken.None);
        replication.ScheduleSecondScan();
    }

    public override async Task Stop()
    {
        await replication.StopAsync();
        await base.Stop();
    }

    public Task ApplyBatch(ReplicaBatch batch)
    {
        replication.OnBatch(batch);
        return Task.CompletedTask;
    }

    public Task MirrorStates(ImmutableArray<UserPresenceState> states) => mirrors.ApplyOwnedAsync(states, ownedHere: false);
}

/// <summary>Addresses <see cref="IPresenceReplicaService"/> on a given silo.</summary>
internal sealed class PresenceReplicaClient(IServiceProvider services) : GrainServiceClient<IPresenceReplicaService>(services)
{
    public IPresenceReplicaService On(SiloAddress silo) => GetGrainService(silo);
}
