using System.Runtime.InteropServices;
using PresenceGrid.Matrix;

namespace PresenceGrid.Fanout;

/// <summary>
/// The routing modules' recipients of each sender of one fan-out batch: sender → a chain of (user index, the state the
/// module gave that user). States are matched by their <em>user</em>, not by reference, so a state the module built
/// itself (Python's <c>copy_and_replace</c>, e.g. with the status removed) still reaches its recipients, and the module's
/// state is kept as given for the callers that use it (federation, Synapse §3 B). One instance is reused batch after
/// batch by the fan-out loop (its only user), so routing a batch allocates nothing once the arrays have grown to the
/// batch size (a list per state cost two objects per update).
/// </summary>
internal sealed class ModuleRecipients
{
    // Arrays that grew past this for one huge batch are let go at the next clear.
    private const int KeptCapacity = 1 << 16;

    private readonly Dictionary<UserId, int> _heads = [];
    private int[] _users = new int[64];
    private int[] _next = new int[64];
    private UserPresenceState[] _states = new UserPresenceState[64];
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
            _states = new UserPresenceState[64];
            _heads.TrimExcess(64);
        }
        else
        {
            Array.Clear(_states, 0, _count);
        }

        _heads.Clear();
        _count = 0;
    }

    /// <summary>
    /// Fills the table from a merged <c>get_users_for_states</c> result (recipient → states); invalid keys are skipped.
    /// </summary>
    /// <param name="routed">The router's result.</param>
    /// <param name="indexOf">The user table index of a recipient.</param>
    public void Fill(IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>> routed, Func<UserId, int> indexOf)
    {
        foreach ((string key, IReadOnlySet<UserPresenceState> states) in routed)
        {
            if (!UserId.TryParse(key, out UserId? recipient))
            {
                continue;
            }

            int index = indexOf(recipient);
            foreach (UserPresenceState state in states)
            {
                Add(state, index);
            }
        }
    }

    /// <summary>Records that <paramref name="user"/> (a user table index) gets <paramref name="state"/>, the module's state of its user.</summary>
    public void Add(UserPresenceState state, int user)
    {
        if (_count == _users.Length)
        {
            Array.Resize(ref _users, _count * 2);
            Array.Resize(ref _next, _count * 2);
            Array.Resize(ref _states, _count * 2);
        }

        ref int head = ref CollectionsMarshal.GetValueRefOrAddDefault(_heads, state.UserId, out bool exists);
        _users[_count] = user;
        _states[_count] = state;
        _next[_count] = exists ? head : -1;
        head = _count++;
    }

    /// <summary>The recipients the modules gave a state of <paramref name="sender"/> (any instance of that user's state), latest first.</summary>
    public Enumerator For(UserId sender) => new(this, _heads.TryGetValue(sender, out int head) ? head : -1);

    /// <summary>Walks one sender's chain.</summary>
    public struct Enumerator(ModuleRecipients owner, int head)
    {
        private int _at = -1;
        private int _nextAt = head;

        /// <summary>The current user index.</summary>
        public readonly int Current => owner._users[_at];

        /// <summary>The state the module gave the current user (as the module built it).</summary>
        public readonly UserPresenceState State => owner._states[_at];

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
