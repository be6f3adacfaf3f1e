namespace PresenceGrid.Runtime.GrainDirectory;

/// <summary>
/// A silo process: its endpoint and its generation (start time), so that a restarted process is a
/// new identity and a dead one never comes back.
/// </summary>
/// <param name="Endpoint">Where other silos reach it (<c>host:port</c>; a name for in-process silos).</param>
/// <param name="Generation">A number that grows with each start of the same endpoint.</param>
public sealed record SiloAddress(string Endpoint, long Generation)
{
    /// <inheritdoc />
    public override string ToString() => $"{Endpoint}@{Generation}";
}

/// <summary>A directory entry: which activation of a grain is the one, and on which silo.</summary>
/// <param name="GrainId">The grain.</param>
/// <param name="ActivationId">The activation (incarnation).</param>
/// <param name="Silo">The silo that hosts it.</param>
public sealed record GrainAddress(GrainId GrainId, Guid ActivationId, SiloAddress Silo)
{
    /// <inheritdoc />
    public override string ToString() => $"{GrainId} #{ActivationId:N} on {Silo}";
}

/// <summary>This silo's identity.</summary>
public interface ILocalSiloDetails
{
    /// <summary>The silo's address.</summary>
    SiloAddress SiloAddress { get; }

    /// <summary>The silo's name.</summary>
    string Name { get; }
}
