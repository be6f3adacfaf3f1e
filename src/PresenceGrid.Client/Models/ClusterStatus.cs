namespace PresenceGrid.Client;

/// <summary>The cluster membership as seen by the answering silo, from <c>GET /v1/admin/cluster</c>.</summary>
/// <param name="Silos">The silos.</param>
public sealed record ClusterStatus(IReadOnlyList<SiloInfo> Silos);

/// <summary>One silo of the cluster.</summary>
/// <param name="Name">The silo name.</param>
/// <param name="Address">The silo address, <c>endpoint@generation</c>.</param>
/// <param name="Status">The membership status, for example <c>"active"</c>.</param>
/// <param name="Activations">The number of grain activations on the silo (known for the answering silo only).</param>
/// <param name="HttpEndpoint">Where the silo serves this API, when it is in a cluster.</param>
/// <param name="Self">True for the silo that answered.</param>
/// <param name="SiloEndpoint">The silo-to-silo endpoint: <see cref="Address"/> is <c>SiloEndpoint@Generation</c> (absent from older silos).</param>
/// <param name="Generation">The silo's generation (epoch), growing with each start (absent from older silos).</param>
public sealed record SiloInfo(
    string Name, string Address, string Status, long? Activations, string? HttpEndpoint = null, bool Self = false, string? SiloEndpoint = null, long? Generation = null);
