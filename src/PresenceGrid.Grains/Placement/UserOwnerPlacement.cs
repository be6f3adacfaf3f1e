using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace PresenceGrid.Placement;

/// <summary>
/// Places a grain on its owner silo: the highest rendezvous score of its id over the compatible silos, hashed from
/// their silo endpoints and generations. The client SDK computes the same owner from <c>/v1/cluster/placement</c>, so
/// it can send a user's requests to the silo that holds the user's grain; a silo that joins or leaves moves only the
/// grains it wins or held.
/// </summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking, Alias("pg.UserOwnerPlacement")]
public sealed class UserOwnerPlacement : PlacementStrategy
{
    /// <summary>The one instance.</summary>
    public static UserOwnerPlacement Singleton { get; } = new();
}

/// <summary>Places the grain class with <see cref="UserOwnerPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class UserOwnerPlacementAttribute() : PlacementAttribute(UserOwnerPlacement.Singleton);

/// <summary>Picks the owner silo of <see cref="UserOwnerPlacement"/> grains.</summary>
internal sealed class UserOwnerPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        SiloAddress[] silos = context.GetCompatibleSilos(target);
        return Task.FromResult(silos.Length == 0 ? context.LocalSilo : Owner(target.GrainIdentity, silos));
    }

    /// <summary>The owner of <paramref name="grain"/> among <paramref name="silos"/>.</summary>
    public static SiloAddress Owner(GrainId grain, IReadOnlyList<SiloAddress> silos) =>
        Owner(RendezvousHashing.HashGrain(grain.Type.ToString()!, grain.Key.ToString()!), silos);

    /// <summary>The owner of the grain hashed to <paramref name="grainHash"/> among <paramref name="silos"/>.</summary>
    public static SiloAddress Owner(ulong grainHash, IReadOnlyList<SiloAddress> silos)
    {
        SiloAddress best = silos[0];
        ulong bestScore = 0;
        bool first = true;
        foreach (SiloAddress silo in silos)
        {
            ulong score = RendezvousHashing.Score(grainHash, SiloHash(silo));
            if (first || score > bestScore || (score == bestScore && string.CompareOrdinal(PlacementName(silo), PlacementName(best)) < 0))
            {
                best = silo;
                bestScore = score;
                first = false;
            }
        }

        return best;
    }

    /// <summary>A silo's hash: its silo endpoint (<c>host:port</c>) and generation, as the client hashes them.</summary>
    public static ulong SiloHash(SiloAddress silo) => RendezvousHashing.HashSilo(silo.Endpoint.ToString(), silo.Generation);

    /// <summary>A silo's place in placement order: <c>endpoint@generation</c>.</summary>
    public static string PlacementName(SiloAddress silo) => $"{silo.Endpoint}@{silo.Generation}";
}

/// <summary>
/// Whether this silo owns a user (places its grain), from the active silos of its membership view: the API counts the
/// requests it serves for users other silos own, whose grain calls cross silos.
/// </summary>
internal sealed class UserOwners(IClusterMembershipService membership, ILocalSiloDetails self)
{
    private static readonly ulong UserTypePrefix = RendezvousHashing.GrainTypePrefix(Grains.UserPresenceGrain.GrainTypeName);

    private View _view = new(MembershipVersion.MinValue, []);

    /// <summary>This silo.</summary>
    public SiloAddress Self => self.SiloAddress;

    public bool IsLocal(string user) => Owner(user).Equals(self.SiloAddress);

    /// <summary>The silo that owns <paramref name="user"/> (this one while it is alone or not yet active).</summary>
    public SiloAddress Owner(string user)
    {
        SiloAddress[] active = Active();
        return active.Length <= 1 ? self.SiloAddress : UserOwnerPlacementDirector.Owner(RendezvousHashing.HashGrain(UserTypePrefix, user), active);
    }

    private SiloAddress[] Active()
    {
        ClusterMembershipSnapshot snapshot = membership.CurrentSnapshot;
        View view = Volatile.Read(ref _view);
        if (view.Version != snapshot.Version)
        {
            view = new View(snapshot.Version, [.. snapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress)]);
            Volatile.Write(ref _view, view);
        }

        return view.Active;
    }

    private sealed record View(MembershipVersion Version, SiloAddress[] Active);
}
