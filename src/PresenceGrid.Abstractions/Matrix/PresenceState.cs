namespace PresenceGrid.Matrix;

/// <summary>A Matrix presence value (Synapse <c>synapse.api.constants.PresenceState</c>).</summary>
public enum PresenceState
{
    /// <summary><c>"offline"</c>; also the default for an unknown user.</summary>
    Offline = 0,

    /// <summary><c>"unavailable"</c> (idle or explicitly away).</summary>
    Unavailable = 1,

    /// <summary><c>"online"</c>.</summary>
    Online = 2,

    /// <summary><c>"org.matrix.msc3026.busy"</c>; clients may set it only when MSC3026 is enabled.</summary>
    Busy = 3,
}
