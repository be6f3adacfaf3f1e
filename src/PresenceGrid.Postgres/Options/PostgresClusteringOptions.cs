using Npgsql;

namespace PresenceGrid.Postgres.Options;

/// <summary>
/// Where Orleans' membership lives on PostgreSQL: configure exactly one of
/// <see cref="ConnectionString"/> and <see cref="DataSource"/>.
/// </summary>
/// <remarks>
/// By default the silos and clients that use it apply PresenceGrid's schema at start, so the role
/// needs the rights to create tables and functions in the first schema of its search path the
/// first time. A role without them: run <c>pgrid db migrate --postgres "…"</c> once with the
/// owner's role and set <see cref="ApplySchema"/> to <see langword="false"/>.
/// </remarks>
public sealed class PostgresClusteringOptions
{
    /// <summary>An Npgsql connection string (<c>Host=…;Database=…;Username=…</c>).</summary>
    [Redact]
    public string? ConnectionString { get; set; }

    /// <summary>A data source owned by the caller (not disposed by PresenceGrid or Orleans).</summary>
    [Redact]
    public NpgsqlDataSource? DataSource { get; set; }

    /// <summary>
    /// Whether to apply the schema at start (default <see langword="true"/>). When <see langword="false"/>,
    /// the silo or client only reads <c>presencegrid_schema</c> at start and fails, before it joins,
    /// if a part is missing or older than this build ships, saying to run <c>pgrid db migrate</c>.
    /// </summary>
    public bool ApplySchema { get; set; } = true;
}
