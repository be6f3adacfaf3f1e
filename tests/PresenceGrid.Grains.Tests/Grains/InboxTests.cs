using PresenceGrid.Fanout;

namespace PresenceGrid.Grains.Tests;

public sealed class InboxTests
{
    [Theory]
    [InlineData(10)]
    [InlineData(6_000)] // an ALL-interest user's: past the size at which the thread drops its scratch table
    public void Compaction_KeepsEachSendersLatestEntry_WithTheUnionOfItsKinds(int senders)
    {
        var inbox = new Inbox();

        // Every sender ten times over, by module in the second round and by room otherwise: compacted many times.
        const int Rounds = 10;
        for (int round = 0; round < Rounds; round++)
        {
            for (int sender = 0; sender < senders; sender++)
            {
                inbox.Deliver(sender, round == 1 ? DeliveryKind.Module : DeliveryKind.Room);
            }
        }

        List<(int Sender, DeliveryKind Kind)> read = inbox.ReadSince(0, out long position);

        Assert.Equal((long)Rounds * senders, position);
        Assert.Equal(Enumerable.Range(0, senders), read.Select(r => r.Sender).Order());
        Assert.All(read, r => Assert.Equal(DeliveryKind.Room | DeliveryKind.Module, r.Kind));
        Assert.True(inbox.Count <= 4 * senders, $"{inbox.Count} entries held for {senders} senders: compaction did not keep up");
    }

    [Theory]
    [InlineData(10)]
    [InlineData(6_000)]
    public void Compaction_KeepsPositions_SoAReadFromATokenGetsOnlyLaterDeliveries(int senders)
    {
        var inbox = new Inbox();
        for (int round = 0; round < 3; round++)
        {
            for (int sender = 0; sender < senders; sender++)
            {
                inbox.Deliver(sender, DeliveryKind.Room);
            }
        }

        _ = inbox.ReadSince(0, out long token);

        // After the token, only the even senders speak again (one of them twice, by another kind).
        for (int sender = 0; sender < senders; sender += 2)
        {
            inbox.Deliver(sender, DeliveryKind.Room);
        }

        inbox.Deliver(0, DeliveryKind.AllUsers);

        List<(int Sender, DeliveryKind Kind)> read = inbox.ReadSince(token, out _);
        Assert.Equal(Enumerable.Range(0, senders).Where(s => s % 2 == 0), read.Select(r => r.Sender).Order());
        Assert.Equal(DeliveryKind.Room | DeliveryKind.AllUsers, read.Single(r => r.Sender == 0).Kind);
    }

    [Fact]
    public void Compaction_AfterOneThatGrewTheInbox_DoesNotTakeItsHolesForSenderZero()
    {
        var inbox = new Inbox();

        // Four distinct senders fill four entries: the compaction frees nothing, so the inbox grows and keeps
        // its one hole (sender 1's older entry) in place.
        (int Sender, DeliveryKind Kind)[] first = [(0, DeliveryKind.Room), (1, DeliveryKind.Room), (2, DeliveryKind.Room), (1, DeliveryKind.Module), (3, DeliveryKind.Room)];
        foreach ((int sender, DeliveryKind kind) in first)
        {
            inbox.Deliver(sender, kind);
        }

        // Fill up to the next compaction: the hole comes after sender 0's entry and must not replace it.
        for (int i = 0; i < 4; i++)
        {
            inbox.Deliver(4 + i, DeliveryKind.Room);
        }

        List<(int Sender, DeliveryKind Kind)> read = inbox.ReadSince(0, out _);
        Assert.Equal(Enumerable.Range(0, 8), read.Select(r => r.Sender).Order());
        Assert.Equal(DeliveryKind.Room, read.Single(r => r.Sender == 0).Kind);
        Assert.Equal(DeliveryKind.Room | DeliveryKind.Module, read.Single(r => r.Sender == 1).Kind);
    }
}
