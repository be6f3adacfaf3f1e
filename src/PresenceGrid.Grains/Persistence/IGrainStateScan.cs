namespace PresenceGrid.Persistence;

/// <summary>
/// Lists every stored state of one grain type, for the start-up rebuilds of a silo's presence view and the stale
/// flush. A grain storage that can list its records (PostgreSQL) registers one; without it the grid rebuilds nothing
/// at start-up (a single silo with in-memory storage has nothing stored before it starts).
/// </summary>
public interface IGrainStateScan
{
    /// <summary>Reads every stored state named <paramref name="stateName"/> of grains of <paramref name="grainType"/>.</summary>
    /// <typeparam name="T">The state's type.</typeparam>
    /// <param name="stateName">The state's name (<c>[PersistentState("name")]</c>).</param>
    /// <param name="grainType">The grain type.</param>
    /// <param name="cancellationToken">Stops the read.</param>
    /// <returns>Each grain's key and state.</returns>
    Task<IReadOnlyList<KeyValuePair<string, T>>> ReadAllAsync<T>(string stateName, GrainType grainType, CancellationToken cancellationToken);
}
