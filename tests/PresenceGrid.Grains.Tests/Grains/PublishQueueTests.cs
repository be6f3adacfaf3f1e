using PresenceGrid.Fanout;

namespace PresenceGrid.Grains.Tests;

public sealed class PublishQueueTests
{
    [Fact]
    public async Task Items_LeaveInOrder_InBatchesOfAtMostTheLimit_AcrossWrapAroundAndGrowth()
    {
        var queue = new PublishQueue<int>();
        var taken = new List<int>();
        int next = 0;
        var random = new Random(3);
        for (int round = 0; round < 200; round++)
        {
            int writes = random.Next(0, 3000); // sometimes past the initial 1,024: the buffer grows
            for (int i = 0; i < writes; i++)
            {
                Assert.True(queue.TryWrite(next++));
            }

            if (queue.Count > 0)
            {
                Assert.True(await queue.WaitToReadAsync());
                var batch = new List<int>();
                int got = queue.TakeBatch(batch, 700);
                Assert.Equal(got, batch.Count);
                Assert.True(got <= 700);
                taken.AddRange(batch);
            }
        }

        var rest = new List<int>();
        while (queue.TakeBatch(rest, 4096) > 0)
        {
        }

        taken.AddRange(rest);
        Assert.Equal(Enumerable.Range(0, next), taken);
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public async Task TheReader_WaitsForAWrite_AndSeesTheEndOnlyAfterTheLastItem()
    {
        var queue = new PublishQueue<string>();
        ValueTask<bool> waiting = queue.WaitToReadAsync();
        Assert.False(waiting.IsCompleted);

        Assert.True(queue.TryWrite("a"));
        Assert.True(await waiting.AsTask().WaitAsync(TimeSpan.FromSeconds(10)));

        queue.Complete();
        Assert.False(queue.TryWrite("too late"));
        Assert.True(await queue.WaitToReadAsync()); // "a" is still there
        var batch = new List<string>();
        Assert.Equal(1, queue.TakeBatch(batch, 10));
        Assert.Equal(["a"], batch);
        Assert.False(await queue.WaitToReadAsync());
    }

    [Fact]
    public async Task ACompletedQueue_ReleasesAWaitingReader()
    {
        var queue = new PublishQueue<int>();
        ValueTask<bool> waiting = queue.WaitToReadAsync();

        queue.Complete();

        Assert.False(await waiting.AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
    }
}
