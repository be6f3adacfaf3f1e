using Npgsql;

namespace PresenceGrid.Postgres.Schema;

/// <summary>What <see cref="PostgresSchema.ApplyAsync(NpgsqlDataSource, CancellationToken)"/> did with one part.</summary>
/// <param name="Part">The part's name.</param>
/// <param name="ShippedVersion">The version this build ships.</param>
/// <param name="RecordedVersion">The version the database recorded before the call, or <see langword="null"/> when it had none.</param>
internal sealed record SchemaPartOutcome(string Part, int ShippedVersion, int? RecordedVersion)
{
    /// <summary>Whether the part's script ran: <see langword="false"/> when the database holds a newer version.</summary>
    public bool Applied => RecordedVersion is not { } recorded || recorded <= ShippedVersion;
}
