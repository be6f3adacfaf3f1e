using System.Runtime.InteropServices;
using PresenceGrid.Matrix;

namespace PresenceGrid.Fanout;

/// <summary>
/// The routing modules' recipients of each state of one fan-out batch: state → a chain of user indexes. One instance
/// is reused batch after batch by the fan-out loop (its only user), so routing a batch allocates nothing once the
/// arrays have grown to the batch size (a list per state cost two objects per update).
/// </summary>
internal sealed class ModuleRecipients
{
    // Arrays that grew past this for one huge batch are let go at the next clear.
    private const int KeptCapacity = 1 << 16;

    private readonly Dictionary<UserPresenceState, int> _heads = new(ReferenceEqualityComparer.Instance);
    private int[] _users = new int[64];
    private int[] _next = new int[64];
    private int _count;

    /// <summary>True when no state has a module recipient.</summary>
    public bool IsEmpty => _count == 0;

    /// <summary>Forgets the previous batch.</summary>
    public void Clear()
    {
        if (_users.Length > KeptCapacity)
        {
            _users = new int[64];
            _next = new int[64];
            _heads.TrimExcess(64);
        }

        _heads.Clear();
        _count = 0;
    }

    /// <summary>Records that <paramref name="user"/> (a user table index) gets <paramref name="state"/>.</summary>
    public void Add(UserPresenceState state, int user)
    {
        if (_count == _users.Length)
        {
            Array.Resize(ref _users, _count * 2);
            Array.Resize(ref _next, _count * 2);
        }

        ref int head = ref CollectionsMarshal.GetValueRefOrAddDefault(_heads, state, out bool exists);
        _users[_count] = user;
        _next[_count] = exists ? head : -1;
        head = _count++;
    }

    /// <summary>The recipients of <paramref name="state"/> (the same instance that was added), latest first.</summary>
    public Enumerator For(UserPresenceState state) => new(this, _heads.TryGetValue(state, out int head) ? head : -1);

    /// <summary>Walks one state's chain.</summary>
    public struct Enumerator(ModuleRecipients owner, int head)
    {
        private int _at = -1;
        private int _nextAt = head;

        /// <summary>The current user index.</summary>
        public readonly int Current => owner._users[_at];

        /// <summary>Moves to the next recipient.</summary>
        public bool MoveNext()
        {
            if (_nextAt < 0)
            {
                return false;
            }

            _at = _nextAt;
            _nextAt = owner._next[_at];
            return true;
        }

        /// <summary>Lets <c>foreach</c> walk the chain.</summary>
        public readonly Enumerator GetEnumerator() => this;
    }
}
