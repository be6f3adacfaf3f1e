using System.Diagnostics.Metrics;
using PresenceGrid.Matrix;
using PresenceGrid.Presence;

namespace PresenceGrid.Hosting;

/// <summary>
/// Presence metrics, equivalent to Synapse's <c>synapse_handler_presence_*</c> plus the grid's own
/// fan-out costs. Meter <see cref="MeterName"/>.
/// </summary>
internal sealed class PresenceMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "PresenceGrid.Presence";

    private readonly Meter _meter;
    private readonly Counter<long> _updates;
    private readonly Counter<long> _notified;
    private readonly Counter<long> _stateTransitions;
    private readonly Counter<long> _notifyReasons;
    private readonly Counter<long> _timersFired;
    private readonly Counter<long> _takenOver;
    private readonly Counter<long> _federationOut;
    private readonly Counter<long> _deliveries;
    private readonly Counter<long> _roomRecipients;
    private readonly Histogram<int> _recipientsPerChange;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _changeToDelivery;

    private readonly Counter<long> _replicationMessages;
    private readonly Counter<long> _replicationDropped;
    private readonly Counter<long> _remoteUserCalls;
    private readonly Counter<long> _mirroredDirectly;
    private readonly Histogram<int> _replicationBatch;

    public PresenceMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _updates = _meter.CreateCounter<long>("presencegrid.presence.updates", "{update}", "Presence updates committed (synapse_handler_presence_presence_updates).");
        _notified = _meter.CreateCounter<long>("presencegrid.presence.notified", "{update}", "Updates that notified (synapse_handler_presence_notified_presence).");
        _stateTransitions = _meter.CreateCounter<long>("presencegrid.presence.state_transitions", "{transition}", "State transitions by from/to (synapse_handler_presence_state_transition).");
        _notifyReasons = _meter.CreateCounter<long>("presencegrid.presence.notify_reasons", "{update}", "Why updates notified (synapse_handler_presence_notify_reason).");
        _timersFired = _meter.CreateCounter<long>("presencegrid.presence.timers_fired", "{timer}", "Presence timers that fired (synapse_handler_presence_timers_fired).");
        _takenOver = _meter.CreateCounter<long>(
            "presencegrid.presence.takeover.users",
            "{user}",
            "Users whose timers a silo took over when the silo holding them left the cluster (a wake-up each re-evaluates them from storage).");
        _federationOut = _meter.CreateCounter<long>("presencegrid.presence.federation_out", "{state}", "States queued for federation (synapse_handler_presence_federation_presence_out).");
        _deliveries = _meter.CreateCounter<long>("presencegrid.presence.deliveries", "{delivery}", "Inbox writes.");
        _roomRecipients = _meter.CreateCounter<long>(
            "presencegrid.presence.room_recipients", "{recipient}", "Members reached through their rooms (one room mark or log entry per room serves all its members; summed over the rooms).");
        _batchSize = _meter.CreateHistogram<int>("presencegrid.presence.fanout.batch_size", "{state}", "States fanned out together (one router call, one write per inbox).");
        _changeToDelivery = _meter.CreateHistogram<double>("presencegrid.presence.change_to_delivery", "s", "From a change's publication to its recipients' inboxes.");
        _replicationMessages = _meter.CreateCounter<long>("presencegrid.presence.replication.messages", "{message}", "Cross-silo replication messages peers applied (each carries what queued for that peer while the previous one was in flight).");
        _replicationDropped = _meter.CreateCounter<long>(
            "presencegrid.presence.replication.dropped", "{item}", "Replication items dropped: past a peer's queue bound, or queued for a peer that left the active set.");
        _remoteUserCalls = _meter.CreateCounter<long>(
            "presencegrid.presence.user_calls.remote",
            "{call}",
            "User grain calls a silo made for a user another silo owns (a frontend that routes to owners, as the SDK does, makes none).");
        _mirroredDirectly = _meter.CreateCounter<long>(
            "presencegrid.presence.mirror.direct",
            "{state}",
            "Mirrored states (POST /v1/ingest/states) the owner silo applied and stored without the user's grain, which was not active.");
        _replicationBatch = _meter.CreateHistogram<int>("presencegrid.presence.replication.batch_size", "{state}", "Items (states, membership changes, invites and knocks, full-presence markers) carried by one cross-silo replication message.");
        _recipientsPerChange = _meter.CreateHistogram<int>("presencegrid.presence.recipients_per_change", "{recipient}", "Recipients of one change: its inbox recipients plus the members of the rooms it marked.");
    }

    /// <summary>The state's label (its enum name) without boxing the enum, as <c>ToString()</c> would on every transition.</summary>
    private static string Label(PresenceState state) => state switch
    {
        PresenceState.Offline => nameof(PresenceState.Offline),
        PresenceState.Unavailable => nameof(PresenceState.Unavailable),
        PresenceState.Online => nameof(PresenceState.Online),
        PresenceState.Busy => nameof(PresenceState.Busy),
        _ => state.ToString(),
    };

    public void Committed(PresenceState from, PresenceState to, bool notified, NotifyReason reason)
    {
        _updates.Add(1);
        if (from != to && _stateTransitions.Enabled)
        {
            _stateTransitions.Add(1, new KeyValuePair<string, object?>("from", Label(from)), new KeyValuePair<string, object?>("to", Label(to)));
        }

        if (notified)
        {
            _notified.Add(1);
            if (_notifyReasons.Enabled)
            {
                _notifyReasons.Add(1, new KeyValuePair<string, object?>("reason", reason.ToMetricLabel()));
            }
        }
    }

    public void TimerFired() => _timersFired.Add(1);

    /// <summary>This silo took over the timers of <paramref name="users"/> users of a silo that left the cluster.</summary>
    public void TakenOver(int users) => _takenOver.Add(users);

    /// <summary>A peer silo applied one replication message of <paramref name="items"/> items.</summary>
    public void ReplicationSent(int items)
    {
        _replicationMessages.Add(1);
        _replicationBatch.Record(items);
    }

    /// <summary>Replication items were dropped (queue bound, or the peer left).</summary>
    public void ReplicationDropped(int items) => _replicationDropped.Add(items);

    /// <summary>A request for a user that another silo owns: its grain call crosses silos.</summary>
    public void RemoteUserCall() => _remoteUserCalls.Add(1);

    public void MirroredDirectly(int states)
    {
        if (states > 0)
        {
            _mirroredDirectly.Add(states);
        }
    }

    public void FederationOut(int states) => _federationOut.Add(states);

    public void Deliveries(long count) => _deliveries.Add(count);

    public void RoomRecipients(long count) => _roomRecipients.Add(count);

    public void RecordFanout(int recipients)
    {
        if (_recipientsPerChange.Enabled)
        {
            _recipientsPerChange.Record(recipients);
        }
    }

    public void RecordBatch(int states)
    {
        if (_batchSize.Enabled)
        {
            _batchSize.Record(states);
        }
    }

    public void RecordChangeToDelivery(TimeSpan elapsed)
    {
        if (_changeToDelivery.Enabled)
        {
            _changeToDelivery.Record(elapsed.TotalSeconds);
        }
    }

    public void Dispose() => _meter.Dispose();
}
