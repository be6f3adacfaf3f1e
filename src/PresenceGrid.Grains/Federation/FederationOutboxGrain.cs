using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using PresenceGrid.Hosting;
using PresenceGrid.Matrix;
using PresenceGrid.Presence;

namespace PresenceGrid.Federation;

/// <summary>One outgoing <c>m.presence</c> EDU: at most <see cref="FederationOutboxGrain.MaxStatesPerEdu"/> states.</summary>
/// <param name="Push">The states, oldest first; serialise each with <c>WriteContent(now, includeUserId: true)</c>.</param>
[GenerateSerializer, Immutable, Alias("pg.PresenceEdu")]
public sealed record PresenceEdu([property: Id(0)] IReadOnlyList<UserPresenceState> Push);

/// <summary>
/// The presence waiting for one remote server (key: its server name): the latest state per user
/// wins; the homeserver takes it as EDUs of at most 50 states. Unless presence is tracked
/// (<c>presence.enabled</c> true), nothing is queued, as Synapse's federation sender returns at once.
/// </summary>
[Alias("pg.IFederationOutboxGrain")]
public interface IFederationOutboxGrain : IGrainWithStringKey
{
    /// <summary>Queues states for the destination (latest per user wins).</summary>
    /// <param name="states">Local users' states.</param>
    /// <returns>A task that completes when queued.</returns>
    Task Enqueue(IReadOnlyList<UserPresenceState> states);

    /// <summary>Removes and returns up to <paramref name="maxEdus"/> EDUs, oldest states first.</summary>
    /// <param name="maxEdus">How many EDUs at most (positive).</param>
    /// <returns>The EDUs.</returns>
    Task<IReadOnlyList<PresenceEdu>> Take(int maxEdus);

    /// <summary>How many users have a state waiting.</summary>
    /// <returns>The count.</returns>
    [ReadOnly]
    Task<int> PendingCount();
}

/// <inheritdoc cref="IFederationOutboxGrain"/>
[GrainType("federation-outbox")]
internal sealed class FederationOutboxGrain(PresenceMetrics metrics, IOptions<PresenceOptions> options) : Grain, IFederationOutboxGrain
{
    /// <summary>Synapse's <c>MAX_PRESENCE_STATES_PER_EDU</c>.</summary>
    public const int MaxStatesPerEdu = 50;

    private readonly OrderedDictionary<string, UserPresenceState> _pending = new(StringComparer.Ordinal);

    public Task Enqueue(IReadOnlyList<UserPresenceState> states)
    {
        if (options.Value.Mode != PresenceMode.Enabled)
        {
            // Not tracked: no presence federation at all (module-set states and the stale flush included).
            return Task.CompletedTask;
        }

        foreach (UserPresenceState state in states)
        {
            // Replacing keeps the user's place in line, as Synapse's OrderedDict does.
            _pending[state.UserId.ToString()] = state;
        }

        metrics.FederationOut(states.Count);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<PresenceEdu>> Take(int maxEdus)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxEdus);
        var edus = new List<PresenceEdu>();
        while (edus.Count < maxEdus && _pending.Count > 0)
        {
            int take = Math.Min(MaxStatesPerEdu, _pending.Count);
            var push = new UserPresenceState[take];
            for (int i = 0; i < take; i++)
            {
                push[i] = _pending.GetAt(0).Value;
                _pending.RemoveAt(0);
            }

            edus.Add(new PresenceEdu(push));
        }

        return Task.FromResult<IReadOnlyList<PresenceEdu>>(edus);
    }

    public Task<int> PendingCount() => Task.FromResult(_pending.Count);
}
