using System.Collections.Concurrent;
using PresenceGrid.Hosting;
using PresenceGrid.Matrix;
using Microsoft.Extensions.Options;

namespace PresenceGrid.Fanout;

/// <summary>
/// This silo's read-optimised view of joined memberships (room grains are the source of truth and
/// keep it current): room → joined members as user indexes, user → joined rooms (kept in the user's
/// <see cref="UserTable.Entry"/>, which the fan-out reads anyway). Fan-out reads member arrays and
/// room lists without locks (copy-on-write, member arrays rebuilt lazily after a change).
/// </summary>
internal sealed class RoomMembershipIndex
{
    private readonly ConcurrentDictionary<string, Room> _rooms = new(StringComparer.Ordinal);
    private readonly UserTable _users;

    // Guards writes of every user's room list (UserTable.Entry.Rooms, copy-on-write): memberships change
    // rarely next to how often the fan-out reads them, so one lock serves all users.
    private readonly Lock _userRoomsLock = new();
    private readonly HashSet<string> _excluded;

    public RoomMembershipIndex(UserTable users, IOptions<PresenceOptions> options)
    {
        _users = users;
        _excluded = new HashSet<string>(options.Value.ExcludeRoomsFromPresence, StringComparer.Ordinal);
    }

    public UserTable Users => _users;

    public bool IsExcluded(string roomId) => _excluded.Contains(roomId);

    /// <summary>Records whether <paramref name="userId"/> is joined to <paramref name="roomId"/>; returns whether it was.</summary>
    public bool SetJoined(string roomId, UserId userId, bool joined)
    {
        int user = _users.GetOrAdd(userId);
        Room room = _rooms.GetOrAdd(roomId, static (id, self) => new Room(id, self._excluded.Contains(id), self._users), this);
        bool was = room.Set(user, joined);
        SetUserRoom(_users[user], room, joined);
        return was;
    }

    /// <summary>The joined members of a room (empty when unknown).</summary>
    public int[] GetMembers(string roomId) => _rooms.TryGetValue(roomId, out Room? room) ? room.Members : [];

    /// <summary>The rooms a user is joined to (excluded ones included; check <see cref="Room.Excluded"/>).</summary>
    public Room[] GetRooms(int user) => Volatile.Read(ref _users[user].Rooms);

    public Room[] GetRooms(UserId userId) => _users.TryGetIndex(userId.ToString(), out int user) ? GetRooms(user) : [];

    /// <summary>True when the two users share a joined room that is not excluded from presence.</summary>
    public bool ShareRoom(UserId a, UserId b)
    {
        if (!_users.TryGetIndex(a.ToString(), out int ia) || !_users.TryGetIndex(b.ToString(), out int ib))
        {
            return false;
        }

        Room[] roomsOfB = GetRooms(ib);
        foreach (Room room in GetRooms(ia))
        {
            if (!room.Excluded && Array.IndexOf(roomsOfB, room) >= 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>One room's joined members.</summary>
    internal sealed class Room
    {
        private readonly HashSet<int> _members = [];
        private readonly UserTable _users;
        private int[]? _snapshot = [];
        private string[]? _remoteHosts = [];

        public Room(string id, bool excluded, UserTable users)
        {
            Id = id;
            Excluded = excluded;
            _users = users;
        }

        public string Id { get; }

        public bool Excluded { get; }

        private RoomLog? _log;
        private long _lastChange;
        private int _memberCount;
        private HashSet<TaskCompletionSource>? _watchers;

        /// <summary>The change log, once the room is (or was) a broadcast room.</summary>
        public RoomLog? Log => Volatile.Read(ref _log);

        /// <summary>The fan-out position of the latest change of a member that went to this room (0 before any).</summary>
        public long LastChange => Volatile.Read(ref _lastChange);

        /// <summary>The change log, created if needed; a new one holds the changes from <paramref name="firstPosition"/> on.</summary>
        public RoomLog GetOrCreateLog(int capacity, long firstPosition)
        {
            if (Volatile.Read(ref _log) is { } log)
            {
                return log;
            }

            Interlocked.CompareExchange(ref _log, new RoomLog(capacity, firstPosition), null);
            return _log!;
        }

        /// <summary>
        /// A member's change at <paramref name="position"/> went to this room (from the fan-out loop,
        /// before the change's position is published). Waiting syncs are woken by <see cref="Wake"/>
        /// once it is: a sync reads only published changes.
        /// </summary>
        public void Mark(long position) => Volatile.Write(ref _lastChange, position);

        /// <summary>
        /// Wakes the syncs watching this room (from the fan-out loop, after it published the position
        /// of the room's latest change and issued a full fence).
        /// </summary>
        public void Wake()
        {
            if (Volatile.Read(ref _watchers) is null)
            {
                return;
            }

            HashSet<TaskCompletionSource>? watchers;
            lock (_members)
            {
                watchers = SyncWakeUps.TakeAll(ref _watchers);
            }

            SyncWakeUps.Complete(watchers);
        }

        /// <summary>
        /// Registers <paramref name="wake"/> to be completed once a change after <paramref name="since"/>
        /// went to this room and its position is published; false (nothing registered) when one
        /// already has. <paramref name="published"/> reads the fan-out's published position. A waiting
        /// sync that ends without a wake-up must <see cref="Unwatch"/>, so a quiet room keeps nothing
        /// of the syncs that waited on it.
        /// </summary>
        public bool Watch(TaskCompletionSource wake, long since, Func<long> published)
        {
            lock (_members)
            {
                SyncWakeUps.Add(ref _watchers, wake);

                // A full fence between registering and reading the positions; the fan-out has one
                // between publishing a position and reading the watchers: one of the two sees the other.
                Interlocked.MemoryBarrier();
                long last = LastChange;
                if (last > since && last <= published())
                {
                    _watchers!.Remove(wake);
                    return false;
                }
            }

            return true;
        }

        /// <summary>Syncs watching this room now (a snapshot, for tests and diagnostics).</summary>
        public int WatcherCount
        {
            get
            {
                lock (_members)
                {
                    return _watchers?.Count ?? 0;
                }
            }
        }

        /// <summary>Takes back a registration of <see cref="Watch"/> (it may already be gone: a wake-up takes them all).</summary>
        public void Unwatch(TaskCompletionSource wake)
        {
            lock (_members)
            {
                _watchers?.Remove(wake);
            }
        }

        /// <summary>How many members the room has (read without touching the member array, which the fan-out does not need).</summary>
        public int MemberCount => Volatile.Read(ref _memberCount);

        /// <summary>The members; the array is shared and must not be changed.</summary>
        public int[] Members
        {
            get
            {
                int[]? snapshot = Volatile.Read(ref _snapshot);
                if (snapshot is not null)
                {
                    return snapshot;
                }

                lock (_members)
                {
                    snapshot = [.. _members];
                    Volatile.Write(ref _snapshot, snapshot);
                    return snapshot;
                }
            }
        }

        /// <summary>The servers of the remote joined members (no duplicates); shared, not to be changed.</summary>
        public string[] RemoteHosts
        {
            get
            {
                string[]? hosts = Volatile.Read(ref _remoteHosts);
                if (hosts is not null)
                {
                    return hosts;
                }

                var set = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
                foreach (int member in Members)
                {
                    UserTable.Entry entry = _users[member];
                    if (!entry.IsLocal)
                    {
                        set.Add(entry.UserId.Server.ToString());
                    }
                }

                hosts = [.. set];
                Volatile.Write(ref _remoteHosts, hosts);
                return hosts;
            }
        }

        public int Count
        {
            get
            {
                lock (_members)
                {
                    return _members.Count;
                }
            }
        }

        public bool Set(int user, bool joined)
        {
            lock (_members)
            {
                bool was = _members.Contains(user);
                if (joined != was)
                {
                    if (joined)
                    {
                        _members.Add(user);
                    }
                    else
                    {
                        _members.Remove(user);
                    }

                    Volatile.Write(ref _memberCount, _members.Count);
                    Volatile.Write(ref _snapshot, null);
                    Volatile.Write(ref _remoteHosts, null);
                }

                return was;
            }
        }
    }

    private void SetUserRoom(UserTable.Entry user, Room room, bool joined)
    {
        lock (_userRoomsLock)
        {
            Room[] rooms = user.Rooms;
            bool has = Array.IndexOf(rooms, room) >= 0;
            if (joined && !has)
            {
                Volatile.Write(ref user.Rooms, [.. rooms, room]);
            }
            else if (!joined && has)
            {
                Volatile.Write(ref user.Rooms, [.. rooms.Where(r => r != room)]);
            }
        }
    }
}
