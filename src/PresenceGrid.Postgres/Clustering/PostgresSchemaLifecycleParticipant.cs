namespace PresenceGrid.Postgres.Clustering;

/// <summary>Applies the schema when a silo starts, before Orleans' membership touches the database.</summary>
/// <remarks>
/// Orleans 10 reads the membership table first in <c>MembershipTableManager</c>'s start, at
/// <see cref="ServiceLifecycleStage.RuntimeGrainServices"/>; this participant runs at
/// <see cref="ServiceLifecycleStage.RuntimeInitialize"/>, two stages earlier, and a stage starts only
/// when every participant of the one before has finished. A lifecycle stage rather than a
/// configuration validator because applying is I/O: validators are synchronous and would block.
/// </remarks>
internal sealed class PostgresSchemaLifecycleParticipant(PostgresSchemaApplier applier) : ILifecycleParticipant<ISiloLifecycle>
{
    /// <inheritdoc />
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(PostgresSchemaLifecycleParticipant), ServiceLifecycleStage.RuntimeInitialize, applier.ApplyAsync);
}
