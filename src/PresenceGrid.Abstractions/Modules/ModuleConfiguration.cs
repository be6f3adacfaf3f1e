using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;

namespace PresenceGrid.Modules;

/// <summary>
/// One configured module: an entry of <c>modules:</c> (<c>module:</c> + <c>config:</c>) or the legacy
/// <c>presence.presence_router</c>.
/// </summary>
/// <param name="TypeName">The module type: <c>Namespace.Type</c> for a built-in module of <c>PresenceGrid.Modules</c>,
/// otherwise <c>Namespace.Type, Assembly</c>.</param>
/// <param name="Config">The module's <c>config:</c> section (may be empty), as flattened configuration keys.</param>
public sealed record ModuleConfiguration(string TypeName, IConfiguration Config)
{
    /// <summary>
    /// The module's <c>config:</c> value as a faithful tree, as Synapse's <c>yaml.safe_load</c> gives it to a Python module: keys
    /// kept whole (MXID keys such as <c>"@alice:example.org"</c> included), scalars typed (bool, integer, float, string, null),
    /// empty lists and mappings kept. <see langword="null"/> when the configuration had none (or <c>config: null</c>).
    /// When a <see cref="ModuleConfiguration"/> is built from plain <see cref="IConfiguration"/> keys, the tree is rebuilt from
    /// them and every scalar is a string.
    /// </summary>
    public JsonNode? ConfigTree { get; init; }
}
