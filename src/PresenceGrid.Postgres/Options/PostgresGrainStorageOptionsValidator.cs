namespace PresenceGrid.Postgres.Options;

/// <summary>
/// Checks one named <see cref="PostgresGrainStorageOptions"/> when the silo is built, as Orleans'
/// own storage providers check theirs; the message names the storage and the option.
/// </summary>
internal sealed class PostgresGrainStorageOptionsValidator(PostgresGrainStorageOptions options, string name) : IConfigurationValidator
{
    /// <inheritdoc />
    public void ValidateConfiguration()
    {
        string prefix = $"{nameof(PostgresGrainStorageOptions)} of grain storage '{name}'";
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            throw new OrleansConfigurationException($"Invalid {prefix}: {nameof(PostgresGrainStorageOptions.ConnectionString)} is required.");
        }

        NpgsqlConnectionStrings.ThrowIfInvalid($"{prefix}: {nameof(PostgresGrainStorageOptions.ConnectionString)}", options.ConnectionString);
        if (options.GroupCommit < TimeSpan.Zero || options.GroupCommit > PostgresGrainStorageOptions.MaxGroupCommit)
        {
            throw new OrleansConfigurationException(
                $"Invalid {prefix}: {nameof(PostgresGrainStorageOptions.GroupCommit)} must be between 0 and {PostgresGrainStorageOptions.MaxGroupCommit.TotalMilliseconds} ms, not {options.GroupCommit.TotalMilliseconds} ms.");
        }

        if (options.Committers is < 1 or > PostgresGrainStorageOptions.MaxCommitters)
        {
            throw new OrleansConfigurationException(
                $"Invalid {prefix}: {nameof(PostgresGrainStorageOptions.Committers)} must be between 1 and {PostgresGrainStorageOptions.MaxCommitters}, not {options.Committers}.");
        }
    }
}
