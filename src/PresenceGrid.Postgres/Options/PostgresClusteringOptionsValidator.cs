using Microsoft.Extensions.Options;

namespace PresenceGrid.Postgres.Options;

/// <summary>
/// Checks <see cref="PostgresClusteringOptions"/> when the silo or client is built, as Orleans'
/// own clustering providers check theirs; the message names the option and never echoes the
/// connection string (it may hold a password).
/// </summary>
internal sealed class PostgresClusteringOptionsValidator(IOptions<PostgresClusteringOptions> options) : IConfigurationValidator
{
    /// <inheritdoc />
    public void ValidateConfiguration()
    {
        PostgresClusteringOptions value = options.Value;
        bool hasConnectionString = !string.IsNullOrWhiteSpace(value.ConnectionString);
        if (hasConnectionString == (value.DataSource is not null))
        {
            throw new OrleansConfigurationException(
                $"Invalid {nameof(PostgresClusteringOptions)}: configure exactly one of {nameof(PostgresClusteringOptions.ConnectionString)} and {nameof(PostgresClusteringOptions.DataSource)}.");
        }

        if (hasConnectionString)
        {
            NpgsqlConnectionStrings.ThrowIfInvalid($"{nameof(PostgresClusteringOptions)}.{nameof(PostgresClusteringOptions.ConnectionString)}", value.ConnectionString!);
        }
    }
}
