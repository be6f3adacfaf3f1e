namespace PresenceGrid.Routing;

/// <summary>A module instance created at start-up. The host disposes it at shut-down if it is <see cref="IDisposable"/> or <see cref="IAsyncDisposable"/>.</summary>
/// <param name="Identity">Its type name and configuration location.</param>
/// <param name="Instance">The instance.</param>
internal sealed record LoadedModule(ModuleIdentity Identity, object Instance);
