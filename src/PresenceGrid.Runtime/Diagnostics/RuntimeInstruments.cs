using System.Diagnostics.Metrics;

namespace PresenceGrid.Runtime.Diagnostics;

/// <summary>The runtime's metrics.</summary>
internal sealed class RuntimeInstruments : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "PresenceGrid.Runtime";

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private long _activeActivations;

    public RuntimeInstruments(IMeterFactory? meterFactory)
    {
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        ActivationsCreated = _meter.CreateCounter<long>("presencegrid.grain.activations.created", "{activation}", "Activations created.");
        ActivationsDeactivated = _meter.CreateCounter<long>("presencegrid.grain.activations.deactivated", "{activation}", "Activations deactivated.");
        ActivationFailures = _meter.CreateCounter<long>("presencegrid.grain.activations.failed", "{activation}", "Activations whose activation failed.");
        CallsRejected = _meter.CreateCounter<long>("presencegrid.grain.calls.rejected", "{call}", "Calls rejected because an activation was overloaded.");
        CallsTimedOut = _meter.CreateCounter<long>("presencegrid.grain.calls.timed_out", "{call}", "Calls that got no response within the response timeout.");
        CallsRemote = _meter.CreateCounter<long>("presencegrid.grain.calls.remote", "{call}", "Calls made on this silo (an API request, a grain) that were sent to the grain's silo because it is not here.");
        CallsForwarded = _meter.CreateCounter<long>("presencegrid.grain.calls.forwarded", "{call}", "Requests this silo passed on to another silo after a peer sent them here or their activation here went away.");
        FramesSent = _meter.CreateCounter<long>("presencegrid.transport.frames.sent", "{frame}", "Frames written to silo connections (pings included).");
        FramesReceived = _meter.CreateCounter<long>("presencegrid.transport.frames.received", "{frame}", "Frames read from silo connections (pings included).");
        Flushes = _meter.CreateCounter<long>("presencegrid.transport.flushes", "{flush}", "Batches flushed to silo connections (one flush writes every queued frame up to 64 KiB).");
        BytesSent = _meter.CreateCounter<long>("presencegrid.transport.bytes.sent", "By", "Frame bytes written to silo connections.");
        BytesReceived = _meter.CreateCounter<long>("presencegrid.transport.bytes.received", "By", "Frame bytes read from silo connections.");
        HandshakeFailures = _meter.CreateCounter<long>("presencegrid.transport.handshake.failures", "{handshake}", "Silo handshakes refused or failed (wrong cluster, secret, dead peer, timeout).");
        SendFailures = _meter.CreateCounter<long>("presencegrid.transport.send.failures", "{message}", "Messages the transport could not send (reported through OnSendFailed).");
        _meter.CreateObservableUpDownCounter("presencegrid.grain.activations.active", () => Volatile.Read(ref _activeActivations), "{activation}", "Activations now in memory.");
    }

    public Counter<long> ActivationsCreated { get; }

    public Counter<long> ActivationsDeactivated { get; }

    public Counter<long> ActivationFailures { get; }

    public Counter<long> CallsRejected { get; }

    public Counter<long> CallsTimedOut { get; }

    public Counter<long> CallsRemote { get; }

    public Counter<long> CallsForwarded { get; }

    public Counter<long> FramesSent { get; }

    public Counter<long> FramesReceived { get; }

    public Counter<long> Flushes { get; }

    public Counter<long> BytesSent { get; }

    public Counter<long> BytesReceived { get; }

    public Counter<long> HandshakeFailures { get; }

    public Counter<long> SendFailures { get; }

    public void ActivationAdded()
    {
        Interlocked.Increment(ref _activeActivations);
        ActivationsCreated.Add(1);
    }

    public void ActivationRemoved()
    {
        Interlocked.Decrement(ref _activeActivations);
        ActivationsDeactivated.Add(1);
    }

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
