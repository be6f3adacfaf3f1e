namespace PresenceGrid.Postgres.Schema;

/// <summary>One row of <c>presencegrid_schema</c>: a part a database holds.</summary>
/// <param name="Part">The part's name.</param>
/// <param name="Version">The version recorded.</param>
/// <param name="AppliedAt">When that version was first applied.</param>
internal sealed record RecordedSchemaPart(string Part, int Version, DateTimeOffset AppliedAt);
