using Microsoft.Extensions.Configuration;

namespace PresenceGrid.Modules;

/// <summary>
/// One configured module: an entry of <c>modules:</c> (<c>module:</c> + <c>config:</c>) or the legacy
/// <c>presence.presence_router</c>.
/// </summary>
/// <param name="TypeName">The module type: <c>Namespace.Type</c> for a built-in module of <c>PresenceGrid.Modules</c>,
/// otherwise <c>Namespace.Type, Assembly</c>.</param>
/// <param name="Config">The module's <c>config:</c> section (may be empty).</param>
public sealed record ModuleConfiguration(string TypeName, IConfiguration Config);
