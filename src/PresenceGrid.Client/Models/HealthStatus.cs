namespace PresenceGrid.Client;

/// <summary>The answer of <c>GET /healthz</c>.</summary>
/// <param name="Status">The health status; <c>"ok"</c> when healthy.</param>
public sealed record HealthStatus(string Status)
{
    /// <summary>Whether <see cref="Status"/> is <c>"ok"</c>.</summary>
    public bool IsHealthy => string.Equals(Status, "ok", StringComparison.Ordinal);
}
