namespace PresenceGrid.Postgres.Clustering;

/// <summary>Applies the schema when a silo starts, before Orleans' membership touches the database.</summary>
/// <remarks>
/// Orleans 10.4.2 first reads the membership table when <c>MembershipTableManager</c> starts, at
/// <see cref="ServiceLifecycleStage.RuntimeGrainServices"/> (8000); this participant runs at
/// <see cref="ServiceLifecycleStage.RuntimeInitialize"/> (2000), and a stage starts only when every
/// participant of the stages before it has finished. A lifecycle stage rather than the options
/// validator because applying is I/O: validators are synchronous and would block the start.
/// </remarks>
internal sealed class PostgresSchemaLifecycleParticipant(PostgresSchemaApplier applier) : ILifecycleParticipant<ISiloLifecycle>
{
    /// <inheritdoc />
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(PostgresSchemaLifecycleParticipant), ServiceLifecycleStage.RuntimeInitialize, applier.ApplyAsync);
}
