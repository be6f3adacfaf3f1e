using PresenceGrid.Runtime.GrainDirectory;

namespace PresenceGrid.Runtime.Membership;

/// <summary>
/// A membership table in this process's memory, shared by the silos of an in-process test cluster.
/// Leases are judged by its own clock (the <see cref="TimeProvider"/> given), as PostgreSQL judges
/// them by <c>now()</c>, so tests can drive lease expiry with a fake clock.
/// </summary>
public sealed class InMemoryMembershipTable : IMembershipTable
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _clock;
    private readonly List<Row> _rows = [];
    private long _version;
    private long _epoch;

    /// <summary>Creates the table.</summary>
    /// <param name="clock">The table's clock (the "database clock").</param>
    public InMemoryMembershipTable(TimeProvider? clock = null) => _clock = clock ?? TimeProvider.System;

    /// <inheritdoc />
    public event Action<long>? VersionHint;

    /// <inheritdoc />
    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task<SiloAddress> JoinAsync(string endpoint, string name, string? httpEndpoint, TimeSpan lease, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(endpoint);
        long version;
        SiloAddress address;
        lock (_lock)
        {
            address = new SiloAddress(endpoint, ++_epoch);
            _rows.Add(new Row(address, name, httpEndpoint) { Status = SiloStatus.Joining, LeaseUntil = _clock.GetUtcNow() + lease });
            version = ++_version;
        }

        VersionHint?.Invoke(version);
        return Task.FromResult(address);
    }

    /// <inheritdoc />
    public Task<TimeSpan?> RenewLeaseAsync(SiloAddress silo, TimeSpan lease, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            Row? row = Find(silo);
            if (row is null || row.Status == SiloStatus.Dead)
            {
                return Task.FromResult<TimeSpan?>(null);
            }

            row.LeaseUntil = _clock.GetUtcNow() + lease;
            return Task.FromResult<TimeSpan?>(lease);
        }
    }

    /// <inheritdoc />
    public Task<bool> SetStatusAsync(SiloAddress silo, SiloStatus status, CancellationToken cancellationToken)
    {
        long version;
        lock (_lock)
        {
            Row? row = Find(silo);
            if (row is null || row.Status == SiloStatus.Dead)
            {
                return Task.FromResult(false);
            }

            if (status <= row.Status)
            {
                return Task.FromResult(true);
            }

            row.Status = status;
            version = ++_version;
        }

        VersionHint?.Invoke(version);
        return Task.FromResult(true);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<SiloAddress>> DeclareDeadAsync(TimeSpan grace, CancellationToken cancellationToken)
    {
        var dead = new List<SiloAddress>();
        long version = 0;
        lock (_lock)
        {
            DateTimeOffset cutoff = _clock.GetUtcNow() - grace;
            foreach (Row row in _rows)
            {
                if (row.Status != SiloStatus.Dead && row.LeaseUntil < cutoff)
                {
                    row.Status = SiloStatus.Dead;
                    dead.Add(row.Address);
                }
            }

            if (dead.Count > 0)
            {
                version = ++_version;
            }
        }

        if (dead.Count > 0)
        {
            VersionHint?.Invoke(version);
        }

        return Task.FromResult<IReadOnlyList<SiloAddress>>(dead);
    }

    /// <inheritdoc />
    public Task<MembershipView> ReadAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(new MembershipView(_version, [.. _rows.Select(r => new SiloEntry(r.Address, r.Name, r.Status, r.HttpEndpoint))]));
        }
    }

    /// <inheritdoc />
    public Task<long> ReadVersionAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(_version);
        }
    }

    /// <summary>The status of a silo (for tests).</summary>
    /// <param name="silo">The silo.</param>
    /// <returns>Its status.</returns>
    public SiloStatus StatusOf(SiloAddress silo)
    {
        lock (_lock)
        {
            return Find(silo)?.Status ?? SiloStatus.None;
        }
    }

    private Row? Find(SiloAddress silo)
    {
        foreach (Row row in _rows)
        {
            if (row.Address == silo)
            {
                return row;
            }
        }

        return null;
    }

    private sealed class Row(SiloAddress address, string name, string? httpEndpoint)
    {
        public SiloAddress Address { get; } = address;

        public string Name { get; } = name;

        public string? HttpEndpoint { get; } = httpEndpoint;

        public SiloStatus Status { get; set; }

        public DateTimeOffset LeaseUntil { get; set; }
    }
}
