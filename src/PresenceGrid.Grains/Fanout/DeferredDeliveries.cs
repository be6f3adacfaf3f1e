namespace PresenceGrid.Fanout;

/// <summary>
/// A batch's inbox writes, grouped by recipient before they are written (a stable counting sort), so
/// each inbox is locked, touched and woken once per batch instead of once per delivery: the random
/// memory accesses of an inbox write are paid once for all the states it gets in the batch. Used by
/// the fan-out loop only.
/// </summary>
internal sealed class DeferredDeliveries
{
    private int[] _recipients = new int[1024];
    private int[] _senders = new int[1024];
    private DeliveryKind[] _kinds = new DeliveryKind[1024];
    private int[] _sortedSenders = new int[1024];
    private DeliveryKind[] _sortedKinds = new DeliveryKind[1024];
    private int[] _offsets = new int[1024];
    private readonly List<int> _distinct = [];
    private int _count;

    /// <summary>
    /// Deliveries held before the fan-out loop writes them: enough to group a batch's writes per
    /// recipient, few enough that the buffers stay a few megabytes (a batch of 4,096 states with
    /// hundreds of recipients each is written in parts).
    /// </summary>
    public const int FlushThreshold = 1 << 18;

    /// <summary>Distinct recipients from which a flush is written on two threads (below it, the hand-off costs more than it saves).</summary>
    private const int ParallelThreshold = 8192;

    /// <summary>Deliveries added and not yet written.</summary>
    public int Count => _count;

    public void Add(int recipient, int sender, DeliveryKind kind)
    {
        if (_count == _recipients.Length)
        {
            int size = _count * 2;
            Array.Resize(ref _recipients, size);
            Array.Resize(ref _senders, size);
            Array.Resize(ref _kinds, size);
        }

        _recipients[_count] = recipient;
        _senders[_count] = sender;
        _kinds[_count] = kind;
        _count++;
    }

    /// <summary>Writes the runs of <c>_distinct[first..end)</c>; <c>_offsets</c> holds each run's end.</summary>
    private long Write(UserTable users, int first, int end)
    {
        long written = 0;
        int from = first == 0 ? 0 : _offsets[_distinct[first - 1]];
        for (int i = first; i < end; i++)
        {
            int recipient = _distinct[i];
            int to = _offsets[recipient];
            if (users.InboxOf(recipient) is { } inbox)
            {
                inbox.DeliverMany(_sortedSenders.AsSpan(from, to - from), _sortedKinds.AsSpan(from, to - from));
                written += to - from;
            }

            from = to;
        }

        return written;
    }

    /// <summary>
    /// Writes everything added, grouped by recipient, in the order added; returns the inbox writes. A
    /// large batch is written in two halves of its recipients at once (an inbox is in one half only,
    /// so each inbox still gets its deliveries in order).
    /// </summary>
    public async ValueTask<long> FlushAsync(UserTable users)
    {
        if (_count == 0)
        {
            return 0;
        }

        if (_sortedSenders.Length < _count)
        {
            Array.Resize(ref _sortedSenders, _recipients.Length);
            Array.Resize(ref _sortedKinds, _recipients.Length);
        }

        // Count per recipient (offsets[r] holds count + 1 while counting; 0 means unseen).
        for (int i = 0; i < _count; i++)
        {
            int recipient = _recipients[i];
            if (recipient >= _offsets.Length)
            {
                Array.Resize(ref _offsets, Math.Max(recipient + 1, _offsets.Length * 2));
            }

            if (_offsets[recipient]++ == 0)
            {
                _offsets[recipient] = 2;
                _distinct.Add(recipient);
            }
        }

        // Start of each recipient's run.
        int start = 0;
        foreach (int recipient in _distinct)
        {
            int count = _offsets[recipient] - 1;
            _offsets[recipient] = start;
            start += count;
        }

        for (int i = 0; i < _count; i++)
        {
            int at = _offsets[_recipients[i]]++;
            _sortedSenders[at] = _senders[i];
            _sortedKinds[at] = _kinds[i];
        }

        long written;
        int distinct = _distinct.Count;
        if (distinct >= ParallelThreshold)
        {
            int half = distinct / 2;
            Task<long> second = Task.Run(() => Write(users, half, distinct));
            written = Write(users, 0, half);
            written += await second.ConfigureAwait(false);
        }
        else
        {
            written = Write(users, 0, distinct);
        }
        foreach (int recipient in _distinct)
        {
            _offsets[recipient] = 0;
        }

        _distinct.Clear();
        _count = 0;
        return written;
    }
}
