using Microsoft.Extensions.Options;
using PresenceGrid.Fanout;
using PresenceGrid.Hosting;
using PresenceGrid.Matrix;

namespace PresenceGrid.Grains.Tests;

public sealed class DeferredDeliveriesTests
{
    [Theory]
    [InlineData(100)] // one thread
    [InlineData(20_000)] // past the threshold: two halves of the recipients at once
    public async Task Flush_WritesEveryDelivery_GroupedPerInbox_InTheOrderAdded(int recipients)
    {
        var users = new UserTable(Options.Create(new PresenceOptions()));
        int[] index = [.. Enumerable.Range(0, recipients).Select(i => users.GetOrAdd(UserId.Parse($"@u{i}:test")))];
        Inbox?[] inboxes = [.. index.Select((user, i) => i % 7 == 3 ? null : users.GetOrCreateInbox(user))]; // some never synced
        var deliveries = new DeferredDeliveries();

        // Senders 0..9 in turn, each to every recipient; every third recipient also hears from sender 5 by a module.
        long expected = 0;
        for (int sender = 0; sender < 10; sender++)
        {
            for (int r = 0; r < recipients; r++)
            {
                deliveries.Add(index[r], sender, DeliveryKind.Room);
                expected += inboxes[r] is null ? 0 : 1;
                if (sender == 5 && r % 3 == 0)
                {
                    deliveries.Add(index[r], 5, DeliveryKind.Module);
                    expected += inboxes[r] is null ? 0 : 1;
                }
            }
        }

        Assert.Equal(expected, await deliveries.FlushAsync(users));
        Assert.Equal(0, deliveries.Count);
        for (int r = 0; r < recipients; r++)
        {
            if (inboxes[r] is not { } inbox)
            {
                continue;
            }

            List<(int Sender, DeliveryKind Kind)> read = inbox.ReadSince(0, out long position);
            Assert.Equal(10 + (r % 3 == 0 ? 1 : 0), position);
            Assert.Equal(Enumerable.Range(0, 10), read.Select(d => d.Sender));
            Assert.Equal(r % 3 == 0 ? DeliveryKind.Room | DeliveryKind.Module : DeliveryKind.Room, read[5].Kind);
        }

        // The buffers are ready for the next batch.
        deliveries.Add(index[1], 42, DeliveryKind.Room);
        Assert.Equal(1, await deliveries.FlushAsync(users));
        Assert.Equal(42, inboxes[1]!.ReadSince(10, out _).Single().Sender);
    }
}
