using Npgsql;

namespace PresenceGrid.Postgres.Options;

/// <summary>
/// Where Orleans' membership lives on PostgreSQL: configure exactly one of
/// <see cref="ConnectionString"/> and <see cref="DataSource"/>.
/// </summary>
/// <remarks>
/// The silos and clients that use it apply PresenceGrid's schema at start, so the role needs the
/// rights to create tables and functions in the first schema of its search path the first time.
/// </remarks>
public sealed class PostgresClusteringOptions
{
    /// <summary>An Npgsql connection string (<c>Host=…;Database=…;Username=…</c>).</summary>
    [Redact]
    public string? ConnectionString { get; set; }

    /// <summary>A data source owned by the caller (not disposed by PresenceGrid or Orleans).</summary>
    [Redact]
    public NpgsqlDataSource? DataSource { get; set; }
}
