using Npgsql;

namespace PresenceGrid.Postgres.Benchmarks;

/// <summary>Applies Orleans' ADO.NET grain storage schema for PostgreSQL (Schema/AdoNetPersistence.sql, embedded).</summary>
internal static class AdoNetSchema
{
    private const string ResourceName = "PresenceGrid.Postgres.Benchmarks.AdoNetPersistence.sql";

    /// <summary>Creates the storage table, its function and its four OrleansQuery rows (idempotent).</summary>
    public static async Task ApplyAsync(string connectionString)
    {
        await using Stream stream = typeof(AdoNetSchema).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing.");
        using var reader = new StreamReader(stream);
        string script = await reader.ReadToEndAsync().ConfigureAwait(false);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        await using var command = new NpgsqlCommand(script, connection);
        await command.ExecuteNonQueryAsync().ConfigureAwait(false);
    }
}
