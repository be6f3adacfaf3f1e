namespace PresenceGrid.Replication;

/// <summary>What <see cref="ReplicaSequencer.Receive"/> did with a message.</summary>
internal enum ReplicaReceipt
{
    /// <summary>Applied, with any held messages it was the gap before.</summary>
    Applied,

    /// <summary>Held: it arrived before an earlier message of its stream, and is applied right after that one.</summary>
    Held,

    /// <summary>Already applied or held (a message sent again after a failure the receiver did not see): not applied again.</summary>
    Duplicate,

    /// <summary>
    /// From a sender that left: an older generation of one this silo already hears from under a newer one, or (see
    /// <see cref="PresenceReplication.OnBatch"/>) one Orleans' membership shows dead. Ignored.
    /// </summary>
    Superseded,
}

/// <summary>
/// The receiving end of the peers' replication streams on one silo: applies each sender's messages strictly in their
/// <see cref="ReplicaBatch.Sequence"/> order, whatever order they arrive in. Orleans orders neither concurrent calls
/// nor one-way messages, and a sender keeps up to <see cref="ReplicaOutbox.Window"/> messages in flight, so a message
/// may arrive before an earlier one (held until that one is applied) or twice (a message sent again after a timeout
/// whose first copy did arrive: acknowledged, not applied again).
/// </summary>
/// <remarks>
/// Bounded: a sender never sends a message <see cref="ReplicaOutbox.Window"/> or more past its oldest unacknowledged
/// one, and every message before that one was acknowledged here (applied or held), so at most
/// <see cref="ReplicaOutbox.Window"/> − 1 messages are held per sender; one past that bound is refused (the sender
/// sends it again later). A sender is keyed by its <see cref="SiloAddress"/>, generation included: a restarted sender
/// starts a new stream at 1, and its older generation is forgotten. <see cref="Forget"/> drops the streams of senders
/// that left (Orleans' membership declared them dead).
/// </remarks>
/// <param name="apply">Applies one message's items (called under the sequencer's lock, one message at a time).</param>
internal sealed class ReplicaSequencer(Action<ReplicaItem[]> apply)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<SiloAddress, SenderStream> _senders = [];

    /// <summary>The senders this silo keeps a stream position for.</summary>
    public int SenderCount
    {
        get
        {
            lock (_lock)
            {
                return _senders.Count;
            }
        }
    }

    /// <summary>Messages held, over every sender, waiting for an earlier one.</summary>
    public int HeldCount
    {
        get
        {
            lock (_lock)
            {
                return _senders.Values.Sum(s => s.Held.Count);
            }
        }
    }

    /// <summary>Applies a message in its stream's order: now, or once the messages before it are applied.</summary>
    /// <param name="batch">The message.</param>
    /// <returns>What was done with it.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Its sequence number is below 1.</exception>
    /// <exception cref="InvalidOperationException">It is past the window (the sender sends it again later).</exception>
    public ReplicaReceipt Receive(ReplicaBatch batch)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch.Sequence, 1, nameof(batch));
        lock (_lock)
        {
            if (StreamOf(batch.Sender) is not { } stream)
            {
                return ReplicaReceipt.Superseded;
            }

            if (batch.Sequence <= stream.Applied || stream.Held.ContainsKey(batch.Sequence))
            {
                return ReplicaReceipt.Duplicate;
            }

            if (batch.Sequence > stream.Applied + 1)
            {
                if (batch.Sequence > stream.Applied + ReplicaOutbox.Window)
                {
                    throw new InvalidOperationException(
                        $"Replication message {batch.Sequence} from {batch.Sender} is past the window: message {stream.Applied + 1} has not arrived.");
                }

                stream.Held.Add(batch.Sequence, batch.Items);
                return ReplicaReceipt.Held;
            }

            apply(batch.Items);
            stream.Applied = batch.Sequence;
            while (stream.Held.Remove(stream.Applied + 1, out ReplicaItem[]? next))
            {
                apply(next);
                stream.Applied++;
            }

            return ReplicaReceipt.Applied;
        }
    }

    /// <summary>Forgets the streams of the senders <paramref name="gone"/> names (they left the cluster), held messages included.</summary>
    /// <param name="gone">Whether a sender is gone.</param>
    public void Forget(Predicate<SiloAddress> gone)
    {
        lock (_lock)
        {
            foreach (SiloAddress sender in _senders.Keys.Where(s => gone(s)).ToList())
            {
                _senders.Remove(sender);
            }
        }
    }

    /// <summary>The stream of <paramref name="sender"/>, new if unknown; null when a newer generation of it is known (under the lock).</summary>
    private SenderStream? StreamOf(SiloAddress sender)
    {
        if (_senders.TryGetValue(sender, out SenderStream? stream))
        {
            return stream;
        }

        List<SiloAddress>? older = null;
        foreach (SiloAddress known in _senders.Keys)
        {
            if (known.IsSuccessorOf(sender))
            {
                return null;
            }

            if (sender.IsSuccessorOf(known))
            {
                (older ??= []).Add(known);
            }
        }

        older?.ForEach(o => _senders.Remove(o));
        return _senders[sender] = new SenderStream();
    }

    /// <summary>One sender's stream: the last message applied, and those held until the gap before them is filled.</summary>
    private sealed class SenderStream
    {
        public long Applied;

        public Dictionary<long, ReplicaItem[]> Held { get; } = [];
    }
}
