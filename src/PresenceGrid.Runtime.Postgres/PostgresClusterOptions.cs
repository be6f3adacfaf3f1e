using System.Globalization;

namespace PresenceGrid.Runtime.Postgres;

/// <summary>
/// Where and how a silo keeps the cluster in PostgreSQL: membership, grain directory and grain
/// state share one database schema named after <see cref="ClusterId"/>.
/// </summary>
public sealed class PostgresClusterOptions
{
    /// <summary>The longest allowed <see cref="ClusterId"/>.</summary>
    public const int MaxClusterIdLength = 40;

    /// <summary>The Npgsql connection string. Never logged.</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>
    /// The cluster's id: lowercase letters, digits, <c>_</c> and <c>-</c>, at most 40 characters.
    /// Silos with the same id in the same database form one cluster.
    /// </summary>
    public string ClusterId { get; set; } = "";

    /// <summary>The <c>application_name</c> the silo's connections report; null keeps the connection string's.</summary>
    public string? ApplicationName { get; set; }

    /// <summary>How long the storage batcher waits for more writes before it commits a batch. Default 2 ms; zero commits at once.</summary>
    public TimeSpan GroupCommitWindow { get; set; } = TimeSpan.FromMilliseconds(2);

    /// <summary>The most state writes one transaction carries. Default 256.</summary>
    public int MaxBatchSize { get; set; } = 256;

    /// <summary>How often the membership version is polled, as a fallback for LISTEN/NOTIFY. Default 2 s.</summary>
    public TimeSpan VersionPollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How many times an operation is tried when the database is unreachable. Default 5.</summary>
    public int TransientRetryCount { get; set; } = 5;

    /// <summary>The first back-off between tries; it doubles each time (the default 200 ms gives 3 s of waiting over 5 tries).</summary>
    public TimeSpan TransientRetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The schema that holds the cluster's tables: <c>pgrid_</c> plus <see cref="ClusterId"/> with <c>-</c> as <c>_</c>.</summary>
    public string SchemaName => "pgrid_" + ClusterId.Replace('-', '_');

    /// <summary>Throws when an option is out of range.</summary>
    /// <exception cref="ArgumentException">Naming the option and the rule.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            throw new ArgumentException($"{nameof(PostgresClusterOptions)}.{nameof(ConnectionString)} is required.");
        }

        if (ClusterId.Length is 0 or > MaxClusterIdLength || !ClusterId.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '-'))
        {
            throw new ArgumentException(string.Create(
                CultureInfo.InvariantCulture,
                $"{nameof(PostgresClusterOptions)}.{nameof(ClusterId)} '{ClusterId}' is invalid: use 1 to {MaxClusterIdLength} characters from a-z, 0-9, '_' and '-'."));
        }

        if (GroupCommitWindow < TimeSpan.Zero || GroupCommitWindow > TimeSpan.FromSeconds(1))
        {
            throw new ArgumentException($"{nameof(PostgresClusterOptions)}.{nameof(GroupCommitWindow)} must be between 0 and 1 s.");
        }

        if (MaxBatchSize is < 1 or > 10_000)
        {
            throw new ArgumentException($"{nameof(PostgresClusterOptions)}.{nameof(MaxBatchSize)} must be between 1 and 10000.");
        }

        if (VersionPollInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException($"{nameof(PostgresClusterOptions)}.{nameof(VersionPollInterval)} must be positive.");
        }

        if (TransientRetryCount < 1 || TransientRetryDelay < TimeSpan.Zero)
        {
            throw new ArgumentException($"{nameof(PostgresClusterOptions)}.{nameof(TransientRetryCount)} must be at least 1 and {nameof(TransientRetryDelay)} not negative.");
        }
    }
}
