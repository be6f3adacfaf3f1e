using Orleans.Storage;

namespace PresenceGrid.Postgres.Options;

/// <summary>One named PostgreSQL grain storage: where it lives and how long its group commit gathers writes.</summary>
/// <remarks>
/// The silo applies PresenceGrid's schema when the storage starts, so the role needs the rights to
/// create tables in the first schema of its search path the first time.
/// </remarks>
public sealed class PostgresGrainStorageOptions : IStorageProviderSerializerOptions
{
    /// <summary>The group commit window's default.</summary>
    public static readonly TimeSpan DefaultGroupCommit = TimeSpan.FromMilliseconds(2);

    /// <summary>The longest window the validator accepts: past it every write waits longer than a grain call should.</summary>
    public static readonly TimeSpan MaxGroupCommit = TimeSpan.FromSeconds(1);

    /// <summary>The default number of committers.</summary>
    public const int DefaultCommitters = 2;

    /// <summary>The most committers the validator accepts.</summary>
    public const int MaxCommitters = 64;

    /// <summary>An Npgsql connection string (<c>Host=…;Database=…;Username=…</c>).</summary>
    [Redact]
    public string? ConnectionString { get; set; }

    /// <summary>
    /// How long an idle committer gathers writes after the first one arrives before it commits them
    /// in one transaction (zero: only what is already queued). Writes that queued while the
    /// committer's previous transaction ran go at once, without the window. Default 2 ms.
    /// </summary>
    public TimeSpan GroupCommit { get; set; } = DefaultGroupCommit;

    /// <summary>
    /// How many group-commit loops run, each with its own transaction (and connection) at a time: a
    /// grain state always goes to the same one. Two let one batch be built and sent while the other
    /// waits for its commit. Default 2, between 1 and <see cref="MaxCommitters"/>.
    /// </summary>
    public int Committers { get; set; } = DefaultCommitters;

    /// <summary>The state serializer; when unset, the one registered under the storage's name, else the silo's default.</summary>
    public IGrainStorageSerializer GrainStorageSerializer { get; set; } = null!;
}
