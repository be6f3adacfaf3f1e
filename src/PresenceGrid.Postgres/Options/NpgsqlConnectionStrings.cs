using Npgsql;

namespace PresenceGrid.Postgres.Options;

/// <summary>The connection-string check the options validators share; its messages never echo the string (it may hold a password).</summary>
internal static class NpgsqlConnectionStrings
{
    /// <summary>Throws when <paramref name="connectionString"/> is not an Npgsql connection string.</summary>
    /// <param name="optionName">The option's full name, for the message.</param>
    /// <param name="connectionString">The value to check.</param>
    public static void ThrowIfInvalid(string optionName, string connectionString)
    {
        try
        {
            _ = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException)
        {
            throw new OrleansConfigurationException($"Invalid {optionName}: not an Npgsql connection string ({ex.Message}).", ex);
        }
    }
}
