namespace PresenceGrid.Runtime.Configuration;

/// <summary>Identity of a silo.</summary>
public sealed class SiloOptions
{
    /// <summary>The silo's name, for logs and diagnostics. Default: the machine name.</summary>
    public string SiloName { get; set; } = Environment.MachineName;
}

/// <summary>Idle collection of activations (Orleans' <c>GrainCollectionOptions</c>).</summary>
public sealed class GrainCollectionOptions
{
    /// <summary>An activation idle this long is deactivated. Default 15 minutes.</summary>
    public TimeSpan CollectionAge { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How often idle activations are looked for. Default 1 minute; must be below <see cref="CollectionAge"/>.</summary>
    public TimeSpan CollectionQuantum { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long <see cref="Grain.OnActivateAsync"/> (and state loading) may take. Default 30 seconds.</summary>
    public TimeSpan ActivationTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long <see cref="Grain.OnDeactivateAsync"/> may take. Default 30 seconds.</summary>
    public TimeSpan DeactivationTimeout { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>Grain call behaviour (Orleans' <c>SiloMessagingOptions</c>).</summary>
public sealed class SiloMessagingOptions
{
    /// <summary>A call with no response after this long fails with <see cref="GrainCallTimeoutException"/>. Default 30 seconds.</summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Requests an activation may hold waiting for their turn; more are rejected with
    /// <see cref="GrainOverloadedException"/>. Default 10,000; 0 turns the limit off.
    /// </summary>
    public int MaxEnqueuedRequests { get; set; } = 10_000;

    /// <summary>Default limit of local activations per stateless-worker key. Default: the processor count.</summary>
    public int MaxLocalStatelessWorkers { get; set; } = Environment.ProcessorCount;

}
