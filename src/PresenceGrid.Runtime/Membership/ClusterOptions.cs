namespace PresenceGrid.Runtime.Membership;

/// <summary>How a silo takes part in a cluster: leases, failure detection and forwarding.</summary>
public sealed class ClusterOptions
{
    /// <summary>The lease each silo renews; a silo whose lease lapsed (plus <see cref="DeadGrace"/>) is declared dead.</summary>
    public TimeSpan LeaseTime { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the lease is renewed (default: a quarter of the lease).</summary>
    public TimeSpan? RenewInterval { get; set; }

    /// <summary>
    /// How long before its lease ends a silo that could not renew stops admitting grain requests
    /// (default: a fifth of the lease).
    /// </summary>
    public TimeSpan? FenceMargin { get; set; }

    /// <summary>How long past its lease a silo is given before peers declare it dead (default: a tenth of the lease).</summary>
    public TimeSpan? DeadGrace { get; set; }

    /// <summary>How often the membership version is polled when notifications are missed (default: a quarter of the lease, at most 2 s).</summary>
    public TimeSpan? PollInterval { get; set; }

    /// <summary>Where frontends reach this silo's HTTP API (shown to peers and clients), if it serves one.</summary>
    public string? HttpEndpoint { get; set; }

    /// <summary>How many times a message may be forwarded to the grain's real activation.</summary>
    public int MaxForwardCount { get; set; } = 2;

    internal TimeSpan EffectiveRenewInterval => RenewInterval ?? LeaseTime / 4;

    internal TimeSpan EffectiveFenceMargin => FenceMargin ?? LeaseTime / 5;

    internal TimeSpan EffectiveDeadGrace => DeadGrace ?? LeaseTime / 10;

    internal TimeSpan EffectivePollInterval => PollInterval ?? TimeSpan.FromTicks(Math.Min(LeaseTime.Ticks / 4, TimeSpan.FromSeconds(2).Ticks));
}
