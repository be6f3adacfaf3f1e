using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using PresenceGrid.Hosting;
using PresenceGrid.Matrix;

namespace PresenceGrid.Fanout;

/// <summary>
/// Interns user ids as dense integers for this silo, so fan-out works on arrays: room member lists,
/// dedup stamps, inboxes and the latest state per user are all indexed by the same number.
/// </summary>
internal sealed class UserTable
{
    private readonly ConcurrentDictionary<string, int> _indexes = new(StringComparer.Ordinal);
    private readonly PresenceOptions _options;
    private readonly object _growLock = new();
    private Entry[] _entries = new Entry[1024];
    private Inbox?[] _inboxes = new Inbox?[1024];
    private int _count;

    public UserTable(IOptions<PresenceOptions> options) => _options = options.Value;

    public int Count => Volatile.Read(ref _count);

    /// <summary>The index of <paramref name="userId"/>, added if new.</summary>
    public int GetOrAdd(UserId userId)
    {
        if (_indexes.TryGetValue(userId.ToString(), out int index))
        {
            return index;
        }

        lock (_growLock)
        {
            if (_indexes.TryGetValue(userId.ToString(), out index))
            {
                return index;
            }

            index = _count;
            if (index == _entries.Length)
            {
                Array.Resize(ref _entries, _entries.Length * 2);
                Inbox?[] inboxes = _inboxes;
                Array.Resize(ref inboxes, _entries.Length);
                Volatile.Write(ref _inboxes, inboxes);
            }

            _entries[index] = new Entry(userId, _options.IsMine(userId));
            Volatile.Write(ref _count, index + 1);
            _indexes[userId.ToString()] = index;
            return index;
        }
    }

    public bool TryGetIndex(string userId, out int index) => _indexes.TryGetValue(userId, out index);

    /// <summary>
    /// The index of an MXID, parsed and added if new: the silo's one <see cref="UserId"/> object for it (at that
    /// index) is shared by the user's grain and the fan-out instead of each keeping a copy.
    /// </summary>
    /// <exception cref="FormatException">The MXID is not valid.</exception>
    public int InternIndex(string userId) => TryGetIndex(userId, out int index) ? index : GetOrAdd(UserId.Parse(userId));

    public Entry this[int index] => Volatile.Read(ref _entries)[index];

    /// <summary>The inbox of a user, if it has one (a flat array: one memory access less per delivery).</summary>
    public Inbox? InboxOf(int index) => Volatile.Read(ref _inboxes)[index];

    /// <summary>The inbox of a user, created on first use.</summary>
    public Inbox GetOrCreateInbox(int index)
    {
        if (InboxOf(index) is { } inbox)
        {
            return inbox;
        }

        lock (_growLock)
        {
            return _inboxes[index] ??= new Inbox();
        }
    }

    /// <summary>What the silo keeps per known user: its id, its latest state, its inbox (created on first delivery or sync).</summary>
    internal sealed class Entry
    {
        public Entry(UserId userId, bool isLocal)
        {
            UserId = userId;
            IsLocal = isLocal;
        }

        public UserId UserId { get; }

        /// <summary>True for users of a local server name.</summary>
        public bool IsLocal { get; }

        /// <summary>The latest state this silo has seen (published here or delivered to a recipient here).</summary>
        public UserPresenceState? LatestState;

        /// <summary>
        /// Whether <see cref="LatestState"/> was mirrored from the homeserver that owns the user (a
        /// <see cref="PublishKind.Mirror"/> publish here or on the silo that replicated it, or a stored mirrored state):
        /// no grid timer runs for it, so <see cref="Grains.DeadSiloTakeover"/> does not wake the user. Set and cleared by
        /// the fan-out with each state it takes.
        /// </summary>
        public bool Mirrored;

        /// <summary>
        /// The fan-out position of this user's latest change that went to its rooms (0 before any):
        /// a room mate's sync reads this user's state when it is past the sync's token.
        /// </summary>
        public long RoomPosition;

        /// <summary>
        /// The fan-out position of this user's latest notified change (0 before any), whoever it went to: a sync
        /// from an older token counts the user as changed since it (Synapse's <c>updated</c> set).
        /// </summary>
        public long ChangePosition;

        /// <summary>The joined rooms (excluded ones included), copy-on-write under <see cref="RoomMembershipIndex"/>'s lock.</summary>
        public RoomMembershipIndex.Room[] Rooms = [];

        /// <summary>When the user's grain wants its next wake-up (<see cref="Grains.PresenceWakeups"/>), ms since the epoch.</summary>
        public long WakeAt = long.MaxValue;

        /// <summary>The due time of the user's live entry in the wake-up heap (<see cref="long.MaxValue"/>: none).</summary>
        public long QueuedAt = long.MaxValue;

        /// <summary>What the user's grain keeps in memory only (devices, rate limits) while it is deactivated.</summary>
        public Grains.ParkedPresence? Parked;

        /// <summary>
        /// The user's grain is active on this silo (set first thing in its activation, cleared after its last write on
        /// deactivation; both under a lock on this entry): mirrored states go through the grain, not straight to storage.
        /// A bool packs into the entry's padding next to <see cref="IsLocal"/> (no extra bytes).
        /// </summary>
        public bool GrainActive;

        /// <summary>
        /// What the owner silo's mirror ingest knows of the user's stored record (<see cref="Grains.MirroredRecord"/>),
        /// allocated for users whose states it wrote directly; null for the others (one reference per entry).
        /// </summary>
        public Grains.MirroredRecord? Mirror;
    }
}
