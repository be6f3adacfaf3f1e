using System.Net;
using PresenceGrid.Matrix;
using PresenceGrid.Replication;

namespace PresenceGrid.Grains.Tests;

/// <summary>The receiving end of the replication streams on its own: each sender's messages applied in their order.</summary>
public sealed class ReplicaSequencerTests
{
    private static readonly SiloAddress Sender = SiloAddress.New(IPAddress.Loopback, 11111, 1);
    private static readonly SiloAddress Other = SiloAddress.New(IPAddress.Loopback, 11112, 1);

    private readonly List<string> _applied = [];
    private readonly ReplicaSequencer _sequencer;

    public ReplicaSequencerTests() => _sequencer = new ReplicaSequencer(items => _applied.AddRange(items.Select(i => i.State!.StatusMsg!)));

    private static ReplicaBatch Message(SiloAddress sender, long sequence, params string[] statuses) =>
        new(sender, sequence, [.. statuses.Select(s => ReplicaItem.ForState(new UserPresenceState(UserId.Parse("@a:test"), PresenceState.Online, 0, 0, 0, s, false)))]);

    [Fact]
    public void Messages_arriving_out_of_order_are_applied_in_their_order()
    {
        Assert.Equal(ReplicaReceipt.Held, _sequencer.Receive(Message(Sender, 2, "second")));
        Assert.Equal(ReplicaReceipt.Held, _sequencer.Receive(Message(Sender, 4, "fourth")));
        Assert.Empty(_applied);
        Assert.Equal(2, _sequencer.HeldCount);

        Assert.Equal(ReplicaReceipt.Applied, _sequencer.Receive(Message(Sender, 1, "first")));
        Assert.Equal(["first", "second"], _applied);

        // Another sender's stream is its own: its message 1 applies at once, while this one's 4 still waits for 3.
        Assert.Equal(ReplicaReceipt.Applied, _sequencer.Receive(Message(Other, 1, "other")));
        Assert.Equal(ReplicaReceipt.Applied, _sequencer.Receive(Message(Sender, 3, "third")));
        Assert.Equal(["first", "second", "other", "third", "fourth"], _applied);
        Assert.Equal(0, _sequencer.HeldCount);
    }

    [Fact]
    public void A_copy_of_a_message_applied_or_held_is_acknowledged_without_being_applied_again()
    {
        _sequencer.Receive(Message(Sender, 1, "first"));
        _sequencer.Receive(Message(Sender, 3, "third"));

        Assert.Equal(ReplicaReceipt.Duplicate, _sequencer.Receive(Message(Sender, 1, "first")));
        Assert.Equal(ReplicaReceipt.Duplicate, _sequencer.Receive(Message(Sender, 3, "third")));
        Assert.Equal(1, _sequencer.HeldCount);
        _sequencer.Receive(Message(Sender, 2, "second"));
        Assert.Equal(ReplicaReceipt.Duplicate, _sequencer.Receive(Message(Sender, 2, "second")));
        Assert.Equal(["first", "second", "third"], _applied);
    }

    [Fact]
    public void A_restarted_sender_starts_a_new_stream_and_its_older_generation_is_forgotten()
    {
        SiloAddress restarted = SiloAddress.New(IPAddress.Loopback, 11111, 2);
        _sequencer.Receive(Message(Sender, 1, "old 1"));
        _sequencer.Receive(Message(Sender, 2, "old 2"));
        _sequencer.Receive(Message(Sender, 4, "old 4, never applied"));

        Assert.Equal(ReplicaReceipt.Applied, _sequencer.Receive(Message(restarted, 1, "new 1")));
        Assert.Equal(1, _sequencer.SenderCount);
        Assert.Equal(0, _sequencer.HeldCount);

        // A late message of the older generation is ignored.
        Assert.Equal(ReplicaReceipt.Superseded, _sequencer.Receive(Message(Sender, 3, "old 3")));
        Assert.Equal(ReplicaReceipt.Applied, _sequencer.Receive(Message(restarted, 2, "new 2")));
        Assert.Equal(["old 1", "old 2", "new 1", "new 2"], _applied);
    }

    [Fact]
    public void Forget_drops_the_streams_of_senders_that_left_with_what_they_held()
    {
        _sequencer.Receive(Message(Sender, 2, "held"));
        _sequencer.Receive(Message(Other, 1, "other"));

        _sequencer.Forget(s => s.Equals(Sender));

        Assert.Equal(1, _sequencer.SenderCount);
        Assert.Equal(0, _sequencer.HeldCount);
        Assert.Equal(ReplicaReceipt.Duplicate, _sequencer.Receive(Message(Other, 1, "other")));
    }

    [Fact]
    public void A_message_past_the_window_is_refused_and_held_messages_stay_bounded()
    {
        for (long sequence = 2; sequence <= ReplicaOutbox.Window; sequence++)
        {
            Assert.Equal(ReplicaReceipt.Held, _sequencer.Receive(Message(Sender, sequence, $"{sequence}")));
        }

        Assert.Throws<InvalidOperationException>(() => _sequencer.Receive(Message(Sender, ReplicaOutbox.Window + 1, "too far")));
        Assert.Throws<ArgumentOutOfRangeException>(() => _sequencer.Receive(Message(Sender, 0, "unnumbered")));
        Assert.Equal(ReplicaOutbox.Window - 1, _sequencer.HeldCount);
        Assert.Empty(_applied);

        _sequencer.Receive(Message(Sender, 1, "1"));
        Assert.Equal(ReplicaOutbox.Window, _applied.Count);
        Assert.Equal(ReplicaReceipt.Held, _sequencer.Receive(Message(Sender, ReplicaOutbox.Window + 2, "now within")));
    }
}
