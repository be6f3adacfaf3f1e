using System.Collections.Immutable;
using System.Runtime.CompilerServices;

namespace PresenceGrid.Presence;

/// <summary>
/// The timers one <c>handle_update</c> inserts (at most three at once, of idle, currently-active, sync, busy and
/// federation timeout), kept inline so an update allocates no array for them. <see cref="ToImmutableArray"/> makes one only for a reader that wants it.
/// </summary>
internal struct PresenceTimerSet
{
    private Buffer _timers;
    private int _count;

    /// <summary>Adds a timer; a fifth one is a bug in the caller.</summary>
    /// <param name="timer">The timer.</param>
    public void Add(PresenceTimer timer)
    {
        if (_count == Buffer.Capacity)
        {
            throw new InvalidOperationException($"handle_update inserts at most {Buffer.Capacity} timers.");
        }

        _timers[_count++] = timer;
    }

    /// <summary>The timers, in the order they were added.</summary>
    public readonly ImmutableArray<PresenceTimer> ToImmutableArray() => _count == 0 ? [] : ImmutableArray.Create(((ReadOnlySpan<PresenceTimer>)_timers)[.._count]);

    [InlineArray(Capacity)]
    private struct Buffer
    {
        public const int Capacity = 4;

        private PresenceTimer _first;
    }
}
