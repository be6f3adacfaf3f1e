namespace PresenceGrid.Runtime.Catalog;

/// <summary>
/// Installed while grain code runs: every <c>await</c> continuation of grain code is posted back to
/// the activation's work queue, so grain code never runs in parallel with itself.
/// </summary>
internal sealed class ActivationSynchronizationContext : SynchronizationContext
{
    private readonly ActivationData _activation;

    public ActivationSynchronizationContext(ActivationData activation) => _activation = activation;

    public override void Post(SendOrPostCallback d, object? state) => _activation.EnqueueWork(d, state);

    public override void Send(SendOrPostCallback d, object? state) =>
        throw new NotSupportedException("Grain code may not block on its own activation (SynchronizationContext.Send).");

    public override SynchronizationContext CreateCopy() => this;
}
