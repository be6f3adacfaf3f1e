using PresenceGrid.Runtime.GrainDirectory;

namespace PresenceGrid.Runtime.Membership;

/// <summary>A silo's status in the membership table. Dead is terminal: a silo never comes back from it.</summary>
public enum SiloStatus
{
    /// <summary>Not in the table.</summary>
    None = 0,

    /// <summary>Joined the table, not yet serving.</summary>
    Joining = 1,

    /// <summary>Serving grains.</summary>
    Active = 2,

    /// <summary>Stopping gracefully: hands its grains back, then turns dead.</summary>
    Leaving = 3,

    /// <summary>Gone (stopped, or declared dead when its lease lapsed).</summary>
    Dead = 4,
}

/// <summary>One silo incarnation in the membership table.</summary>
/// <param name="Address">Its silo-to-silo endpoint and epoch (generation).</param>
/// <param name="Name">Its name.</param>
/// <param name="Status">Its status.</param>
/// <param name="HttpEndpoint">Where frontends reach its HTTP API, when it serves one.</param>
public sealed record SiloEntry(SiloAddress Address, string Name, SiloStatus Status, string? HttpEndpoint);

/// <summary>A consistent read of the membership table: its version and every silo row.</summary>
/// <param name="Version">The table version; every status change bumps it, lease renewals do not.</param>
/// <param name="Silos">The silo rows.</param>
public sealed record MembershipView(long Version, IReadOnlyList<SiloEntry> Silos)
{
    /// <summary>The empty view before the first read.</summary>
    public static MembershipView Empty { get; } = new(-1, []);

    /// <summary>The silos that serve grains.</summary>
    public IEnumerable<SiloEntry> Active => Silos.Where(s => s.Status == SiloStatus.Active);

    /// <summary>
    /// The active silos in placement order (by <c>endpoint@generation</c>, ordinal): rendezvous ties go
    /// to the first, so every silo and every owner-routing client must list them in this order.
    /// </summary>
    public IEnumerable<SiloEntry> ActiveInPlacementOrder => Active.OrderBy(s => s.Address.ToString(), StringComparer.Ordinal);

    /// <summary>The status of <paramref name="silo"/> in this view (<see cref="SiloStatus.None"/> when absent).</summary>
    /// <param name="silo">The silo.</param>
    /// <returns>The status.</returns>
    public SiloStatus StatusOf(SiloAddress silo)
    {
        foreach (SiloEntry entry in Silos)
        {
            if (entry.Address == silo)
            {
                return entry.Status;
            }
        }

        return SiloStatus.None;
    }
}

/// <summary>
/// The cluster's membership table: one row per silo incarnation with a lease judged by the table's
/// own clock (the database's <c>now()</c>), and a version bumped by every status change. Any silo
/// may declare dead a silo whose lease lapsed; a silo that finds itself dead stops at once.
/// PostgreSQL backs it in a cluster; an in-memory table serves the embedded silo and tests.
/// </summary>
public interface IMembershipTable
{
    /// <summary>Raised (best effort, any thread) when the table's version may have changed: a hint to re-read, never the truth.</summary>
    event Action<long>? VersionHint;

    /// <summary>Creates or migrates the table's schema and starts change notifications. Idempotent.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task.</returns>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Adds a <see cref="SiloStatus.Joining"/> row with a new epoch (never reused) and a lease of <paramref name="lease"/> from now.</summary>
    /// <param name="endpoint">The silo-to-silo endpoint (<c>host:port</c>).</param>
    /// <param name="name">The silo's name.</param>
    /// <param name="httpEndpoint">The silo's HTTP API endpoint, or null.</param>
    /// <param name="lease">The lease length.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The silo's address: endpoint and epoch.</returns>
    Task<SiloAddress> JoinAsync(string endpoint, string name, string? httpEndpoint, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>Extends the silo's lease to <paramref name="lease"/> from now (no version bump).</summary>
    /// <param name="silo">The silo.</param>
    /// <param name="lease">The lease length.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The lease left as the table sees it, or null when the silo is dead (it must stop at once).</returns>
    Task<TimeSpan?> RenewLeaseAsync(SiloAddress silo, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>Moves the silo to <paramref name="status"/> (forward only) and bumps the version.</summary>
    /// <param name="silo">The silo.</param>
    /// <param name="status">Active, Leaving or Dead.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>False when the silo is already dead (or absent).</returns>
    Task<bool> SetStatusAsync(SiloAddress silo, SiloStatus status, CancellationToken cancellationToken);

    /// <summary>
    /// Declares dead every silo whose lease ended more than <paramref name="grace"/> ago (judged by the
    /// table's clock), bumping the version once. Idempotent; safe to run from every silo.
    /// </summary>
    /// <param name="grace">How long past its lease a silo is given.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The silos this call declared dead.</returns>
    Task<IReadOnlyList<SiloAddress>> DeclareDeadAsync(TimeSpan grace, CancellationToken cancellationToken);

    /// <summary>Reads the version and every row.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The view.</returns>
    Task<MembershipView> ReadAsync(CancellationToken cancellationToken);

    /// <summary>Reads only the version (cheap polling).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The version.</returns>
    Task<long> ReadVersionAsync(CancellationToken cancellationToken);
}
