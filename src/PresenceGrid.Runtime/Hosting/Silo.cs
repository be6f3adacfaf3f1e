using Microsoft.Extensions.Hosting;
using PresenceGrid.Invocation;
using PresenceGrid.Runtime.Catalog;
using PresenceGrid.Runtime.Diagnostics;
using PresenceGrid.Runtime.GrainDirectory;

namespace PresenceGrid.Runtime.Hosting;

/// <summary>
/// A running silo: hosts activations, collects idle ones, times out calls, and deactivates
/// everything gracefully when the host stops.
/// </summary>
public sealed class Silo : IHostedService, IDisposable
{
    private readonly SiloRuntime _runtime;
    private readonly ActivationCollector _collector;
    private readonly GrainAssemblies _assemblies;

    internal Silo(SiloRuntime runtime, GrainAssemblies assemblies)
    {
        _runtime = runtime;
        _assemblies = assemblies;
        _collector = new ActivationCollector(runtime);
    }

    /// <summary>This silo's address.</summary>
    public SiloAddress SiloAddress => _runtime.LocalSilo.SiloAddress;

    /// <summary>This silo's name.</summary>
    public string Name => _runtime.LocalSilo.Name;

    /// <summary>The number of activations in memory (stateless workers included).</summary>
    public int ActivationCount => _runtime.Catalog.All.Count();

    internal SiloRuntime Runtime => _runtime;

    internal ActivationCollector Collector => _collector;

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _assemblies.EnsureLoaded();
        _runtime.InFlight.Start();
        _collector.Start();
        RuntimeLog.SiloStarted(_runtime.Logger, _runtime.LocalSilo.Name, _runtime.LocalSilo.SiloAddress.ToString(), GrainTypeManifest.GrainClassDescriptors.Count());
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _runtime.MarkStopping();
        _collector.Dispose();
        ActivationData[] activations = [.. _runtime.Catalog.All];
        var reason = new DeactivationReason(DeactivationReasonCode.ShuttingDown, "the silo is stopping");
        foreach (ActivationData activation in activations)
        {
            activation.RequestDeactivation(reason);
        }

        Task all = Task.WhenAll(activations.Select(a => a.Deactivated));
        try
        {
            await all.WaitAsync(_runtime.CollectionOptions.DeactivationTimeout, _runtime.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is TimeoutException or OperationCanceledException)
        {
            // Stop anyway: what did not finish is abandoned, as on a kill.
        }

        _runtime.InFlight.FailAll(static request => new SiloUnavailableException($"The silo stopped before {request} completed."));
        RuntimeLog.SiloStopped(_runtime.Logger, _runtime.LocalSilo.Name, activations.Length);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _collector.Dispose();
        _runtime.Dispose();
    }
}

/// <summary>This silo's identity for a single-process silo.</summary>
internal sealed class LocalSiloDetails : ILocalSiloDetails
{
    public LocalSiloDetails(string name, TimeProvider timeProvider)
    {
        Name = name;
        SiloAddress = new SiloAddress($"local:{name}", timeProvider.GetUtcNow().ToUnixTimeMilliseconds());
    }

    public SiloAddress SiloAddress { get; }

    public string Name { get; }
}

/// <summary>Assemblies whose generated grain manifests must be registered before the silo serves.</summary>
internal sealed class GrainAssemblies
{
    private readonly List<System.Reflection.Assembly> _assemblies = [];

    public void Add(System.Reflection.Assembly assembly)
    {
        if (!_assemblies.Contains(assembly))
        {
            _assemblies.Add(assembly);
        }
    }

    /// <summary>Runs each assembly's module initializer (idempotent), which registers its grains.</summary>
    public void EnsureLoaded()
    {
        foreach (System.Reflection.Assembly assembly in _assemblies)
        {
            System.Runtime.CompilerServices.RuntimeHelpers.RunModuleConstructor(assembly.ManifestModule.ModuleHandle);
        }
    }
}
