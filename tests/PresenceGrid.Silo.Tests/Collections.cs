namespace PresenceGrid.Silo.Tests;

/// <summary>Tests that read the console (pgrid's output): never in parallel.</summary>
[CollectionDefinition(nameof(ConsoleCollection), DisableParallelization = true)]
public sealed class ConsoleCollection;

/// <summary>Tests that run silo processes: one at a time, so that two clusters never share the machine's cores.</summary>
[CollectionDefinition(nameof(ProcessClusterCollection), DisableParallelization = true)]
public sealed class ProcessClusterCollection;
