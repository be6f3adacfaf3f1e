using Orleans.Concurrency;
using PresenceGrid.Fanout;
using PresenceGrid.Matrix;

namespace PresenceGrid.Benchmarks.Presence;

/// <summary>
/// The naive Orleans design that the grid's fan-out is measured against: a user grain per user that sends each change
/// to every recipient's inbox grain, one Orleans call per recipient (awaited, or <c>[OneWay]</c>). Recipients are the
/// members of the sender's (non-excluded) rooms, once each, read from the silo's real room index, plus the router's
/// ALL user when there is one: the same recipients the grid's fan-out reaches.
/// </summary>
internal interface INaiveUserGrain : IGrainWithIntegerKey
{
    /// <summary>Sets the user's presence and delivers it to every recipient; returns how many there were.</summary>
    Task<int> SetPresence(PresenceState presence, string? statusMsg, bool awaited);

    /// <summary>Activates the grain (warm-up).</summary>
    Task Ping();
}

/// <summary>A naive inbox: one grain per user that receives each change by its own call.</summary>
internal interface INaiveInboxGrain : IGrainWithIntegerKey
{
    /// <summary>One change, awaited by the sender.</summary>
    Task Deliver(UserPresenceState state);

    /// <summary>One change, not awaited (no response message).</summary>
    [OneWay]
    Task DeliverOneWay(UserPresenceState state);

    /// <summary>The latest change received (null before any).</summary>
    Task<UserPresenceState?> Latest();
}

/// <summary>What the naive grains share in the benchmark's silo: the recipients of a user and the delivery counts.</summary>
internal sealed class NaiveFanoutCounters(RoomMembershipIndex rooms)
{
    [ThreadStatic]
    private static HashSet<int>? t_recipients;

    private long _sent;
    private long _delivered;

    /// <summary>The router's ALL user (its user-table index), or -1.</summary>
    public int AllUser { get; set; } = -1;

    public long Sent => Interlocked.Read(ref _sent);

    public long Delivered => Interlocked.Read(ref _delivered);

    public UserId UserIdOf(int user) => rooms.Users[user].UserId;

    /// <summary>The distinct recipients of a change of <paramref name="user"/>.</summary>
    public int[] RecipientsOf(int user)
    {
        HashSet<int> recipients = t_recipients ??= [];
        recipients.Clear();
        foreach (RoomMembershipIndex.Room room in rooms.GetRooms(user))
        {
            if (!room.Excluded)
            {
                recipients.UnionWith(room.Members);
            }
        }

        if (AllUser >= 0)
        {
            recipients.Add(AllUser);
        }

        int[] result = [.. recipients];
        Interlocked.Add(ref _sent, result.Length);
        return result;
    }

    public void CountDelivery() => Interlocked.Increment(ref _delivered);
}

/// <inheritdoc cref="INaiveUserGrain"/>
internal sealed class NaiveUserGrain(NaiveFanoutCounters counters, TimeProvider time) : Grain, INaiveUserGrain
{
    private UserPresenceState? _state;

    public Task<int> SetPresence(PresenceState presence, string? statusMsg, bool awaited)
    {
        int user = (int)this.GetPrimaryKeyLong();
        long now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var state = new UserPresenceState(_state?.UserId ?? counters.UserIdOf(user), presence, now, 0, now, statusMsg, presence == PresenceState.Online);
        _state = state;
        int[] recipients = counters.RecipientsOf(user);
        if (!awaited)
        {
            foreach (int recipient in recipients)
            {
                _ = GrainFactory.GetGrain<INaiveInboxGrain>(recipient).DeliverOneWay(state);
            }

            return Task.FromResult(recipients.Length);
        }

        var calls = new Task[recipients.Length];
        for (int i = 0; i < recipients.Length; i++)
        {
            calls[i] = GrainFactory.GetGrain<INaiveInboxGrain>(recipients[i]).Deliver(state);
        }

        return DeliveredAsync(calls);
    }

    public Task Ping() => Task.CompletedTask;

    private static async Task<int> DeliveredAsync(Task[] calls)
    {
        await Task.WhenAll(calls);
        return calls.Length;
    }
}

/// <inheritdoc cref="INaiveInboxGrain"/>
/// <remarks>Cheaper than a real inbox (it keeps the latest change only, not one per sender), which favours the naive design.</remarks>
internal sealed class NaiveInboxGrain(NaiveFanoutCounters counters) : Grain, INaiveInboxGrain
{
    private UserPresenceState? _latest;

    public Task Deliver(UserPresenceState state)
    {
        _latest = state;
        counters.CountDelivery();
        return Task.CompletedTask;
    }

    public Task DeliverOneWay(UserPresenceState state) => Deliver(state);

    public Task<UserPresenceState?> Latest() => Task.FromResult(_latest);
}
