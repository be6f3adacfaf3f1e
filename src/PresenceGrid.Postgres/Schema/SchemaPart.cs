namespace PresenceGrid.Postgres.Schema;

/// <summary>One independently versioned piece of the schema.</summary>
/// <param name="Name">The part's key in <c>presencegrid_schema</c>.</param>
/// <param name="Version">The version this build ships.</param>
/// <param name="Script">The idempotent SQL that brings a database to that version.</param>
internal sealed record SchemaPart(string Name, int Version, string Script);
