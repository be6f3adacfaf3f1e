using PresenceGrid.Matrix;

namespace PresenceGrid.Modules;

/// <summary>The validated configuration of <see cref="PairRouter"/>.</summary>
/// <param name="Routes">Receiver → the senders whose presence it receives, in configuration order.</param>
public sealed record PairRouterConfig(IReadOnlyDictionary<UserId, IReadOnlyList<UserId>> Routes)
{
    /// <summary>Compares the routes receiver by receiver, so a reload can tell whether anything changed.</summary>
    /// <param name="other">The other configuration.</param>
    /// <returns><see langword="true"/> when both have the same receivers with the same senders in the same order.</returns>
    public bool Equals(PairRouterConfig? other)
    {
        if (other is null || other.Routes.Count != Routes.Count)
        {
            return false;
        }

        foreach (var (receiver, senders) in Routes)
        {
            if (!other.Routes.TryGetValue(receiver, out var otherSenders) || !senders.SequenceEqual(otherSenders))
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc />
    public override int GetHashCode() => Routes.Count;
}
