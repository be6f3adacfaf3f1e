using PresenceGrid.Matrix;

namespace PresenceGrid.Routing;

/// <summary>
/// What each module contributed to one run of the merged callbacks (for <c>explain</c>): the pipeline's merges record
/// into it as they merge, so the answer explained is the one the fan-out and the sync get, module by module.
/// </summary>
internal sealed class RoutingTrace
{
    private static readonly IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>> NotRouted = new Dictionary<string, IReadOnlySet<UserPresenceState>>();

    /// <summary>The merged <c>get_interested_users</c> of the recipient, as the sync gets it.</summary>
    public PresenceInterest Interest { get; set; } = PresenceInterest.None;

    /// <summary>The merged <c>get_users_for_states</c> of the state, as the fan-out gets it.</summary>
    public IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>> RoutedStates { get; set; } = NotRouted;

    /// <summary>The merged room recipients replacement of the state, as the fan-out gets it (null when none).</summary>
    public IReadOnlyDictionary<string, IReadOnlySet<string>>? Replacement { get; set; }

    /// <summary><c>get_users_for_states</c>: (module, recipient key, a state it routed there).</summary>
    public List<(ModuleIdentity Module, UserId Recipient, UserPresenceState State)> Routed { get; } = [];

    /// <summary><c>get_interested_users</c>: (module, a user it listed) per listed user.</summary>
    public List<(ModuleIdentity Module, UserId User)> Interested { get; } = [];

    /// <summary><c>get_interested_users</c>: the module that answered ALL, if one did.</summary>
    public ModuleIdentity? AllFrom { get; set; }

    /// <summary>The room recipients replacement: (module, sender, a recipient it put in place of the rooms).</summary>
    public List<(ModuleIdentity Module, UserId Sender, UserId Recipient)> Replaced { get; } = [];
}
