using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using PresenceGrid.Hosting;
using PresenceGrid.Matrix;
using PresenceGrid.Replication;
using PresenceGrid.Testing;

namespace PresenceGrid.Grains.Tests;

/// <summary>The per-peer replication stream on its own, over a fake peer that completes each message when told.</summary>
public sealed class ReplicaOutboxTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    /// <summary>A peer whose messages stay in flight until the test completes (or fails) them.</summary>
    private sealed class FakePeer
    {
        private readonly Channel<(ReplicaBatch Batch, TaskCompletionSource Applied)> _received = Channel.CreateUnbounded<(ReplicaBatch, TaskCompletionSource)>();

        public bool Active { get; set; } = true;

        public int Sent;

        public Task Send(ReplicaBatch batch)
        {
            Interlocked.Increment(ref Sent);
            var applied = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _received.Writer.TryWrite((batch, applied));
            return applied.Task;
        }

        /// <summary>The next message sent, with its completion.</summary>
        public async Task<(ReplicaBatch Batch, TaskCompletionSource Applied)> NextAsync() => await _received.Reader.ReadAsync().AsTask().WaitAsync(Wait);

        public bool HasPending => _received.Reader.TryPeek(out _);
    }

    /// <summary>The measurements of one <see cref="PresenceMetrics"/> (its own meter, so other tests' silos do not count).</summary>
    private sealed class MetricsCapture : IMeterFactory
    {
        private readonly MeterListener _listener = new();
        private Meter? _meter;

        public MetricsCapture()
        {
            _listener.InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter, _meter))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => Values.GetOrAdd(instrument.Name, _ => new()).Enqueue(value));
            _listener.SetMeasurementEventCallback<int>((instrument, value, _, _) => Values.GetOrAdd(instrument.Name, _ => new()).Enqueue(value));
            Metrics = new PresenceMetrics(this);
            _listener.Start();
        }

        public PresenceMetrics Metrics { get; }

        public ConcurrentDictionary<string, ConcurrentQueue<long>> Values { get; } = new();

        public long Sum(string name) => Values.TryGetValue(name, out var values) ? values.Sum() : 0;

        public Meter Create(MeterOptions options) => _meter = new Meter(options);

        public void Dispose()
        {
            _listener.Dispose();
            _meter?.Dispose();
        }
    }

    private static readonly SiloAddress Self = SiloAddress.New(IPAddress.Loopback, 11110, 1);

    private static ReplicaOutbox Outbox(FakePeer peer, TimeProvider? time = null, int capacity = ReplicaOutbox.DefaultCapacity, PresenceMetrics? metrics = null, int maxInFlight = 1) =>
        new(Self, SiloAddress.New(IPAddress.Loopback, 11111, 1), peer.Send, () => peer.Active, metrics ?? new PresenceMetrics(), time ?? TimeProvider.System, NullLogger.Instance, capacity, maxInFlight);

    private static ReplicaItem State(string user, string status) =>
        ReplicaItem.ForState(new UserPresenceState(UserId.Parse(user), PresenceState.Online, 0, 0, 0, status, false));

    private static string Describe(ReplicaItem item) =>
        item.Kind == ReplicaItemKind.State ? $"{item.User}={item.State!.StatusMsg}" : $"{item.Kind} {item.User} {item.RoomId}";

    [Fact]
    public async Task WithAWindowOfOne_WhileAMessageIsInFlight_NewItemsWait_ThenLeaveTogetherInOrder_WithTheLatestStatePerUser()
    {
        var peer = new FakePeer();
        using var metrics = new MetricsCapture();
        ReplicaOutbox outbox = Outbox(peer, metrics: metrics.Metrics);
        outbox.Add([State("@a:test", "a0")]);
        (ReplicaBatch first, TaskCompletionSource firstApplied) = await peer.NextAsync();
        Assert.Equal(["@a:test=a0"], first.Items.Select(Describe));

        // A burst while the first message is in flight: nothing else leaves until the peer applied it.
        outbox.Add([ReplicaItem.ForMembership("!r:test", UserId.Parse("@a:test"), joined: true)]);
        for (int i = 1; i <= 200; i++)
        {
            outbox.Add([State("@a:test", $"a{i}"), State("@b:test", $"b{i}")]);
        }

        outbox.Add([ReplicaItem.ForInviteOrKnock("!r:test", UserId.Parse("@c:test")), State("@b:test", "b-last")]);
        Assert.Equal(1, peer.Sent);
        Assert.Equal(4, outbox.Count); // the join, a's latest, the invite, b's latest

        firstApplied.SetResult();
        (ReplicaBatch second, TaskCompletionSource secondApplied) = await peer.NextAsync();
        Assert.Equal(["Joined @a:test !r:test", "@a:test=a200", "InvitedOrKnocked @c:test !r:test", "@b:test=b-last"], second.Items.Select(Describe));
        secondApplied.SetResult();

        await Eventually.TrueAsync(() => outbox.MessagesSent == 2, "the second message applied");
        Assert.Equal(2, peer.Sent); // 402 changes and 2 membership items in two messages
        Assert.Equal(5, outbox.ItemsSent);
        Assert.Equal(0, outbox.Count);
        Assert.Equal(2, metrics.Sum("presencegrid.presence.replication.messages"));
        Assert.Equal([1, 4], metrics.Values["presencegrid.presence.replication.batch_size"]);

        // Light load: an item leaves at once, with no linger.
        outbox.Add([State("@a:test", "later")]);
        (ReplicaBatch third, _) = await peer.NextAsync();
        Assert.Equal(["@a:test=later"], third.Items.Select(Describe));
    }

    [Fact]
    public async Task WhenIdle_CompletesOnceTheQueueAndTheMessageInFlightHaveLeft()
    {
        var peer = new FakePeer();
        ReplicaOutbox outbox = Outbox(peer);
        Assert.True(outbox.WhenIdle().IsCompleted);
        outbox.Add([State("@a:test", "1")]);
        (_, TaskCompletionSource first) = await peer.NextAsync();
        outbox.Add([State("@a:test", "2")]);
        Task idle = outbox.WhenIdle();

        first.SetResult();
        (_, TaskCompletionSource second) = await peer.NextAsync();
        Assert.False(idle.IsCompleted);
        second.SetResult();
        await idle.WaitAsync(Wait);
        Assert.Equal(0, outbox.Count);
        Assert.Equal(2, outbox.MessagesSent);
    }

    [Fact]
    public async Task TheQueue_IsBounded_CoalescingStatesPerUser_AndDroppingAndCountingPastItsCapacity()
    {
        var peer = new FakePeer();
        using var metrics = new MetricsCapture();
        ReplicaOutbox outbox = Outbox(peer, capacity: 50, metrics: metrics.Metrics);
        outbox.Add([State("@stuck:test", "in flight")]);
        _ = await peer.NextAsync(); // never applied: a dead or slow peer

        for (int round = 0; round < 1000; round++)
        {
            outbox.Add([.. Enumerable.Range(0, 10).Select(u => State($"@u{u}:test", $"{round}"))]);
        }

        Assert.Equal(10, outbox.Count);
        Assert.Equal(0, outbox.ItemsDropped);

        outbox.Add([.. Enumerable.Range(0, 60).Select(i => ReplicaItem.ForMembership($"!r{i}:test", UserId.Parse("@m:test"), joined: true))]);
        Assert.Equal(50, outbox.Count);
        Assert.Equal(20, outbox.ItemsDropped);

        // A user already queued still gets its newer state in (it replaces the queued one).
        outbox.Add([State("@u3:test", "newest")]);
        Assert.Equal(50, outbox.Count);
        Assert.Equal(20, outbox.ItemsDropped);

        outbox.Drop();
        Assert.True(outbox.IsDropped);
        Assert.Equal(0, outbox.Count);
        Assert.Equal(70, outbox.ItemsDropped);
        outbox.Add([State("@u1:test", "after the drop")]);
        Assert.Equal(0, outbox.Count);
        Assert.Equal(71, outbox.ItemsDropped);
        Assert.Equal(71, metrics.Sum("presencegrid.presence.replication.dropped"));
        Assert.Equal(1, peer.Sent);
    }

    [Fact]
    public async Task UpToTheWindow_NumberedMessagesLeaveAtOnce_ThenItemsWait_UntilTheOldestInFlightIsTaken()
    {
        var peer = new FakePeer();
        ReplicaOutbox outbox = Outbox(peer, maxInFlight: ReplicaOutbox.Window);
        Assert.Equal(4, ReplicaOutbox.Window);
        var inFlight = new List<(ReplicaBatch Batch, TaskCompletionSource Applied)>();
        for (int i = 1; i <= 4; i++)
        {
            outbox.Add([State("@a:test", $"a{i}")]);
            inFlight.Add(await peer.NextAsync());
        }

        Assert.Equal([1L, 2, 3, 4], inFlight.Select(m => m.Batch.Sequence));
        Assert.All(inFlight, m => Assert.Equal(Self, m.Batch.Sender));
        Assert.Equal(["@a:test=a1", "@a:test=a2", "@a:test=a3", "@a:test=a4"], inFlight.Select(m => Describe(Assert.Single(m.Batch.Items))));

        // The window is full: what queues now coalesces, and a later message taken first does not open it.
        outbox.Add([State("@a:test", "a5"), State("@b:test", "b5")]);
        outbox.Add([State("@a:test", "a6")]);
        Assert.Equal(4, outbox.InFlight);
        inFlight[1].Applied.SetResult();
        await Eventually.TrueAsync(() => outbox.InFlight == 3, "message 2 taken, nothing sent in its place");
        Assert.Equal(1, outbox.MessagesSent);
        Assert.False(peer.HasPending);
        Assert.Equal(2, outbox.Count);

        // The oldest taken: the window moves past message 2 too, and the queue leaves as message 5.
        inFlight[0].Applied.SetResult();
        (ReplicaBatch fifth, TaskCompletionSource fifthApplied) = await peer.NextAsync();
        Assert.Equal(5, fifth.Sequence);
        Assert.Equal(["@b:test=b5", "@a:test=a6"], fifth.Items.Select(Describe));
        Assert.Equal(0, outbox.Count);

        Task idle = outbox.WhenIdle();
        inFlight[2].Applied.SetResult();
        inFlight[3].Applied.SetResult();
        Assert.False(idle.IsCompleted);
        fifthApplied.SetResult();
        await idle.WaitAsync(Wait);
        Assert.Equal(5, outbox.MessagesSent);
        Assert.Equal(6, outbox.ItemsSent);
        Assert.Equal(5, peer.Sent);
    }

    [Fact]
    public async Task AFailedMessage_IsSentAgainUnchanged_WithItsNumber_WhileTheLaterOnesGoOn_AndTheQueueIsDroppedOnceThePeerIsNotActive()
    {
        var peer = new FakePeer();
        var clock = new FakeTimeProvider();
        ReplicaOutbox outbox = Outbox(peer, clock, maxInFlight: ReplicaOutbox.Window);
        outbox.Add([ReplicaItem.ForMembership("!r:test", UserId.Parse("@a:test"), joined: true), State("@a:test", "1"), State("@b:test", "1")]);
        (ReplicaBatch first, TaskCompletionSource applied) = await peer.NextAsync();
        outbox.Add([State("@b:test", "2"), State("@c:test", "1")]);
        (ReplicaBatch second, TaskCompletionSource secondApplied) = await peer.NextAsync();
        applied.SetException(new TimeoutException("the peer did not answer"));
        secondApplied.SetResult();

        // Sent again after the retry delay, the same message with the same number: the peer may have applied it already
        // (then it acknowledges the copy without applying it), and b's newer state is in message 2, applied after it.
        await Eventually.TrueAsync(
            () =>
            {
                clock.Advance(ReplicaOutbox.RetryDelay);
                return peer.HasPending;
            },
            "the retry");
        (ReplicaBatch retry, TaskCompletionSource retried) = await peer.NextAsync();
        Assert.Same(first, retry);
        Assert.Equal(1, retry.Sequence);
        Assert.Equal(["Joined @a:test !r:test", "@a:test=1", "@b:test=1"], retry.Items.Select(Describe));
        Assert.Equal(2, second.Sequence);
        Assert.Equal(["@b:test=2", "@c:test=1"], second.Items.Select(Describe));

        // Messages 3 and 4 fill the window behind the unanswered message 1 (2 is taken); later items wait.
        for (int i = 3; i <= 6; i++)
        {
            outbox.Add([State($"@d{i}:test", "1")]);
        }

        long third = (await peer.NextAsync()).Batch.Sequence;
        long fourth = (await peer.NextAsync()).Batch.Sequence;
        Assert.Equal([3L, 4], new[] { third, fourth }.Order()); // sent together: they may reach the peer in either order
        await Eventually.TrueAsync(() => outbox.InFlight == 3, "messages 1, 3 and 4 in flight");
        Assert.False(peer.HasPending);
        Assert.Equal(2, outbox.Count);

        // The peer left Orleans' active set: the failed message and the queue are dropped, and nothing more is sent.
        peer.Active = false;
        retried.SetException(new TimeoutException("the peer is gone"));
        await Eventually.TrueAsync(() => outbox.IsDropped, "the queue dropped");
        Assert.Equal(5, outbox.ItemsDropped);
        Assert.Equal(0, outbox.Count);
        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(5, peer.Sent);
    }
}
