using System.Collections.Immutable;
using Microsoft.Extensions.Options;
using Orleans.Storage;
using PresenceGrid.Fanout;
using PresenceGrid.Hosting;
using PresenceGrid.Matrix;
using PresenceGrid.Placement;
using PresenceGrid.Presence;
using PresenceGrid.Replication;

namespace PresenceGrid.Grains;

/// <summary>
/// What the owner silo knows of a user's stored record while its grain is not active: the state last applied (the
/// previous state of the next mirror's transition), the record's ETag, and the direct write in flight. One per user
/// whose states <see cref="MirrorIngest"/> wrote directly (16-byte header, three references, an int and a bool: 48 bytes, plus
/// the ETag's string: 88 bytes for the memory storage's GUIDs; the state is the one the fan-out keeps as the user's
/// latest), referenced from the user's <see cref="UserTable.Entry.Mirror"/>; every field is read and written under a lock on that
/// entry, except <see cref="ETag"/> and <see cref="ETagKnown"/>, which only the tail of <see cref="Writing"/> (or, once
/// that completed, the activating grain) touches.
/// </summary>
internal sealed class MirroredRecord
{
    /// <summary>
    /// The state last applied to the user (written, or being written, as a mirrored record), or null when unknown:
    /// the next mirror then starts from the silo's latest state of the user and always writes.
    /// </summary>
    public UserPresenceState? Applied;

    /// <summary>The stored record's ETag, when <see cref="ETagKnown"/>.</summary>
    public string? ETag;

    /// <summary>False until the record was read or written here (and after a failed write): the next direct write reads it first.</summary>
    public bool ETagKnown;

    /// <summary>The last direct write (each waits for the one before it: one user's writes never overlap).</summary>
    public Task Writing = Task.CompletedTask;

    /// <summary>How many direct writes were chained (the last one, once done, replaces <see cref="Writing"/> by a completed task).</summary>
    public int Writes;

    /// <summary>
    /// The grain's activation begins (first thing in <c>OnActivateAsync</c>): from now on mirrored states go through the
    /// grain. Returns what the grain must catch up with, or null when its record is current: a direct write still in
    /// flight, or one that completed after the activation read the record (its ETag is not the entry's latest).
    /// </summary>
    /// <param name="user">The user's entry.</param>
    /// <param name="readETag">The ETag of the record the activation read.</param>
    public static MirroredRecord? EnterGrain(UserTable.Entry user, string? readETag)
    {
        lock (user)
        {
            user.GrainActive = true;
            MirroredRecord? mirrored = user.Mirror;
            return mirrored is not null && (!mirrored.Writing.IsCompleted || !mirrored.ETagKnown || mirrored.ETag != readETag) ? mirrored : null;
        }
    }

    /// <summary>
    /// The grain's deactivation ends (after its last write, or its failure): mirrored states go straight to storage again,
    /// from the grain's record.
    /// </summary>
    /// <param name="user">The user's entry.</param>
    /// <param name="etag">The grain's record's ETag.</param>
    /// <param name="mirroredState">The grain's state when it was stored as mirrored, else null (the next mirror writes).</param>
    /// <param name="written">False when the grain's last write failed: the record's ETag is then read again.</param>
    public static void LeaveGrain(UserTable.Entry user, string? etag, UserPresenceState? mirroredState, bool written)
    {
        lock (user)
        {
            user.GrainActive = false;
            if (user.Mirror is { } mirrored)
            {
                mirrored.ETag = etag;
                mirrored.ETagKnown = written;
                mirrored.Applied = written ? mirroredState : null;
            }
        }
    }
}

/// <summary>
/// The batched ingest of the homeserver's states (<c>POST /v1/ingest/states</c>) without a grain activation per state.
/// The batch's latest state per user is grouped by owner silo (<see cref="UserOwners"/>, as placement picks it); the local
/// group is applied here, each other group goes to its owner's <see cref="IPresenceReplicaService.MirrorStates"/> in one
/// message. On the owner, a user whose grain is active gets the state through <see cref="IUserPresenceGrain.Mirror"/>; any
/// other user gets what the grain's <c>Mirror</c> would do, without it: <see cref="PresenceOperations.Mirror"/>'s
/// transition, counted in <see cref="PresenceMetrics.Committed"/>, published with <see cref="PublishKind.Mirror"/> when it
/// notifies (the fan-out records it as the entry's latest state), and the grain's record written straight to the grain
/// storage (same grain id, state name and storage, <see cref="PresenceRecord.Mirrored"/> set), awaited before the answer.
/// A state of a user this silo does not own (membership changed meanwhile) goes through the grain, as before.
/// </summary>
/// <remarks>
/// <para>
/// Coherence with the grain, per user, under a lock on its <see cref="UserTable.Entry"/>: the grain sets
/// <see cref="UserTable.Entry.GrainActive"/> first thing in its activation and clears it at the end of its
/// deactivation, after its last write, handing the record's ETag (and its state, when stored as mirrored) to the
/// entry's <see cref="MirroredRecord"/>. This service writes directly only while the flag is clear, each write chained
/// after the user's previous one (so two batches with the same user never overlap or tear a record; the later
/// transition applies last), tracking the ETag it wrote (read once when unknown). Orleans reads the grain's record
/// before <c>OnActivateAsync</c>, so a direct write can be in flight or land between that read and the flag: the
/// activation then waits for the write and reads the record again when the ETag it read is not the entry's latest
/// (<see cref="MirroredRecord.EnterGrain"/>), so the grain never works from a stale record nor fails its next write.
/// </para>
/// <para>
/// The first direct mirror of a user starts from the silo's latest state of it (what its room mates see), not from the
/// stored record (read only for its ETag, after the transition). A grain active on a silo that does not own the user
/// (placed before a membership change) is not seen by the owner's flag: the owner's direct write would then make that
/// grain's next write fail on its ETag (the call fails, the grain's state is read again on its next activation).
/// </para>
/// </remarks>
internal sealed class MirrorIngest(
    UserTable users,
    PresenceFanout fanout,
    UserOwners owners,
    PresenceReplicaClient replicas,
    IGrainFactory grains,
    IGrainStorage storage,
    PresenceMetrics metrics,
    IOptions<PresenceOptions> options,
    TimeProvider timeProvider)
{
    private readonly PresenceOptions _options = options.Value;

    /// <summary>
    /// Sends each owner silo its users' states (one message per silo, the local group applied in-process) and completes
    /// once every state is applied and stored.
    /// </summary>
    /// <param name="latest">The latest state of each user (one per user).</param>
    /// <returns>A task.</returns>
    public Task MirrorAsync(IReadOnlyCollection<UserPresenceState> latest)
    {
        SiloAddress self = owners.Self;
        Dictionary<SiloAddress, ImmutableArray<UserPresenceState>.Builder>? remote = null;
        List<UserPresenceState> local = new(latest.Count);
        foreach (UserPresenceState state in latest)
        {
            SiloAddress owner = owners.Owner(state.UserId.ToString());
            if (owner.Equals(self))
            {
                local.Add(state);
                continue;
            }

            remote ??= [];
            if (!remote.TryGetValue(owner, out ImmutableArray<UserPresenceState>.Builder? group))
            {
                remote[owner] = group = ImmutableArray.CreateBuilder<UserPresenceState>();
            }

            group.Add(state);
        }

        Task applied = ApplyOwnedAsync(local, ownedHere: true);
        if (remote is null)
        {
            return applied;
        }

        var sends = new List<Task>(remote.Count + 1) { applied };
        foreach ((SiloAddress owner, ImmutableArray<UserPresenceState>.Builder group) in remote)
        {
            sends.Add(replicas.On(owner).MirrorStates(group.DrainToImmutable()));
        }

        return Task.WhenAll(sends);
    }

    /// <summary>Applies states whose users this silo owns (see the class); one per user.</summary>
    /// <param name="states">The states.</param>
    /// <param name="ownedHere">
    /// True when this silo grouped them by owner just now (its own view): not checked again. False for a group another
    /// silo sent, whose view may differ: a user this silo does not own goes through its grain.
    /// </param>
    /// <returns>A task that completes once each is applied and stored.</returns>
    public Task ApplyOwnedAsync(IReadOnlyList<UserPresenceState> states, bool ownedHere)
    {
        if (_options.Mode == PresenceMode.Disabled)
        {
            return Task.CompletedTask;
        }

        List<Task>? pending = null;
        int direct = 0;
        foreach (UserPresenceState state in states)
        {
            Task applied = Apply(state, ownedHere, ref direct);
            if (!applied.IsCompletedSuccessfully)
            {
                (pending ??= []).Add(applied);
            }
        }

        metrics.MirroredDirectly(direct);
        return pending is null ? Task.CompletedTask : Task.WhenAll(pending);
    }

    private Task Apply(UserPresenceState state, bool ownedHere, ref int direct)
    {
        string key = state.UserId.ToString();
        if (ownedHere || owners.IsLocal(key))
        {
            int index = users.GetOrAdd(state.UserId);
            UserTable.Entry user = users[index];
            lock (user)
            {
                if (!user.GrainActive)
                {
                    direct++;
                    return ApplyDirectly(user, index, state);
                }
            }
        }

        return grains.GetGrain<IUserPresenceGrain>(key).Mirror(state);
    }

    /// <summary>The grain's <c>Mirror</c> without the grain (under the entry's lock, its grain not active).</summary>
    private Task ApplyDirectly(UserTable.Entry user, int index, UserPresenceState state)
    {
        MirroredRecord mirrored = user.Mirror ??= new MirroredRecord();
        UserPresenceState previous = mirrored.Applied ?? user.LatestState ?? UserPresenceState.Default(user.UserId);
        long now = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        PresenceTransition transition = PresenceOperations.Mirror(new UserPresenceAggregate(previous, [], user.IsLocal), state, now, _options.Timings, _options.Mode);
        if (transition.StateChanged || transition.Notify)
        {
            metrics.Committed(previous.State, state.State, transition.Notify, transition.Reason);
        }

        if (transition.Notify)
        {
            fanout.Publish(state, PublishKind.Mirror, index);
        }

        user.Parked = null; // the owner's state replaces the grid's devices (the grain's Mirror drops them too)
        if (state.Equals(mirrored.Applied))
        {
            return mirrored.Writing; // stored as mirrored already (or being written)
        }

        mirrored.Applied = state;
        mirrored.Writing = WriteAsync(mirrored.Writing, user, mirrored, state, ++mirrored.Writes);
        return mirrored.Writing;
    }

    private async Task WriteAsync(Task previous, UserTable.Entry user, MirroredRecord mirrored, UserPresenceState state, int write)
    {
        await previous.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        GrainId grainId = GrainId.Create(UserPresenceGrain.GrainType, user.UserId.ToString());
        var record = new GrainState<PresenceRecord>();
        try
        {
            if (!mirrored.ETagKnown)
            {
                await storage.ReadStateAsync(UserPresenceGrain.StateName, grainId, record).ConfigureAwait(false);
                mirrored.ETag = record.ETag;
                mirrored.ETagKnown = true;
            }

            record.State = PresenceRecord.From(state, mirrored: true);
            record.ETag = mirrored.ETag;
            await storage.WriteStateAsync(UserPresenceGrain.StateName, grainId, record).ConfigureAwait(false);
            mirrored.ETag = record.ETag;
            lock (user)
            {
                if (mirrored.Writes == write)
                {
                    mirrored.Writing = Task.CompletedTask; // the last write, done: its task is not kept per user
                }
            }
        }
        catch
        {
            mirrored.ETagKnown = false;
            lock (user)
            {
                if (ReferenceEquals(mirrored.Applied, state))
                {
                    mirrored.Applied = null; // not stored: the same state sent again is written again
                }
            }

            throw;
        }
    }
}
