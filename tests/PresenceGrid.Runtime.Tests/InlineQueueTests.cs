using PresenceGrid.Runtime.Catalog;

namespace PresenceGrid.Runtime.Tests;

public sealed class InlineQueueTests
{
    [Fact]
    public void Items_LeaveInTheOrderTheyCame_AcrossTheInlineHeadAndTheOverflow()
    {
        var queue = default(InlineQueue<int>);
        var expected = new Queue<int>();
        var random = new Random(7);
        int next = 1; // default(T) (0) marks the empty head and is never queued
        for (int step = 0; step < 10_000; step++)
        {
            if (random.Next(3) > 0)
            {
                queue.Enqueue(next);
                expected.Enqueue(next++);
            }
            else
            {
                Assert.Equal(expected.TryDequeue(out int want), queue.TryDequeue(out int got));
                Assert.Equal(want, got);
                queue.ReleaseOverflowWhenEmpty(); // a no-op unless empty
            }

            Assert.Equal(expected.Count, queue.Count);
            if (expected.Count > 0)
            {
                Assert.Equal(expected.Peek(), queue.Peek());
            }
        }
    }

    [Fact]
    public void AnEmptyQueue_SaysSo()
    {
        var queue = default(InlineQueue<string>);

        Assert.False(queue.TryDequeue(out _));
        Assert.Throws<InvalidOperationException>(() => queue.Peek());
        Assert.Throws<InvalidOperationException>(() => queue.Dequeue());
    }

    [Fact]
    public void TheDefaultValue_CannotBeQueued_AndLeavesTheQueueEmpty()
    {
        var queue = default(InlineQueue<string?>);

        Assert.Throws<ArgumentException>(() => queue.Enqueue(null));
        Assert.Equal(0, queue.Count);
        queue.Enqueue("a");
        Assert.Equal(1, queue.Count);
    }
}
