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

    /// <summary>An Npgsql connection string (<c>Host=…;Database=…;Username=…</c>).</summary>
    [Redact]
    public string? ConnectionString { get; set; }

    /// <summary>
    /// How long the committer gathers writes after the first one of a batch arrives before it
    /// commits them in one transaction (zero: only what is already queued). Default 2 ms.
    /// </summary>
    public TimeSpan GroupCommit { get; set; } = DefaultGroupCommit;

    /// <summary>The state serializer; when unset, the one registered under the storage's name, else the silo's default.</summary>
    public IGrainStorageSerializer GrainStorageSerializer { get; set; } = null!;
}
