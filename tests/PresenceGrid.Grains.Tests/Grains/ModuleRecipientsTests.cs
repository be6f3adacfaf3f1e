using PresenceGrid.Fanout;
using PresenceGrid.Matrix;

namespace PresenceGrid.Grains.Tests;

public sealed class ModuleRecipientsTests
{
    private static UserPresenceState State(string user) => UserPresenceState.Default(UserId.Parse(user));

    [Fact]
    public void EachStateGetsExactlyTheRecipientsAddedForIt_PastTheInitialCapacity()
    {
        var recipients = new ModuleRecipients();
        UserPresenceState alice = State("@alice:test"), bob = State("@bob:test"), carol = State("@carol:test");

        // Interleaved, as the router's keys come: 200 recipients each for alice and bob, none for carol.
        for (int user = 0; user < 200; user++)
        {
            recipients.Add(alice, user);
            recipients.Add(bob, 1000 + user);
        }

        Assert.False(recipients.IsEmpty);
        Assert.Equal(Enumerable.Range(0, 200), Recipients(recipients, alice).Order());
        Assert.Equal(Enumerable.Range(1000, 200), Recipients(recipients, bob).Order());
        Assert.Empty(Recipients(recipients, carol));

        // Keyed by the user (issue 17 item 3; Synapse uses a module's states as given): a state the module built
        // itself, not the batch's instance, still finds its recipients, and the module's state is kept as given.
        UserPresenceState redacted = alice with { StatusMsg = null, State = PresenceState.Unavailable };
        var module = new ModuleRecipients();
        module.Add(redacted, 5);
        ModuleRecipients.Enumerator found = module.For(State("@alice:test").UserId);
        Assert.True(found.MoveNext());
        Assert.Equal(5, found.Current);
        Assert.Same(redacted, found.State);
        Assert.False(found.MoveNext());
    }

    [Fact]
    public void Clear_ForgetsThePreviousBatch()
    {
        var recipients = new ModuleRecipients();
        UserPresenceState alice = State("@alice:test");
        for (int user = 0; user < 100_000; user++)
        {
            recipients.Add(alice, user);
        }

        recipients.Clear();
        Assert.True(recipients.IsEmpty);
        Assert.Empty(Recipients(recipients, alice));

        recipients.Add(alice, 7);
        Assert.Equal([7], Recipients(recipients, alice));
    }

    private static List<int> Recipients(ModuleRecipients recipients, UserPresenceState state)
    {
        var found = new List<int>();
        foreach (int user in recipients.For(state.UserId))
        {
            found.Add(user);
        }

        return found;
    }
}
