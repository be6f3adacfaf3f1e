using System.Collections.Immutable;
using Microsoft.Extensions.Options;
using PresenceGrid.Fanout;
using PresenceGrid.Hosting;
using PresenceGrid.Matrix;
using PresenceGrid.Presence;

namespace PresenceGrid.Grains;

/// <summary>The stored part of a user's presence (the seven fields less the id). Immutable: each write stores a new record.</summary>
[GenerateSerializer, Immutable, Alias("pg.PresenceRecord")]
public sealed class PresenceRecord
{
    /// <summary>The presence value's wire string.</summary>
    [Id(0)]
    public string State { get; init; } = "offline";

    /// <summary>Last active, ms since the epoch.</summary>
    [Id(1)]
    public long LastActiveTs { get; init; }

    /// <summary>Last federation update, ms since the epoch.</summary>
    [Id(2)]
    public long LastFederationUpdateTs { get; init; }

    /// <summary>Last sync, ms since the epoch.</summary>
    [Id(3)]
    public long LastUserSyncTs { get; init; }

    /// <summary>The status message.</summary>
    [Id(4)]
    public string? StatusMsg { get; init; }

    /// <summary>Currently active.</summary>
    [Id(5)]
    public bool CurrentlyActive { get; init; }

    /// <summary>The state was mirrored from the homeserver that owns it (<c>POST /v1/ingest/states</c>): no grid timer runs for it.</summary>
    [Id(6)]
    public bool Mirrored { get; init; }

    /// <summary>The user's state as stored, or null when the stored presence value is not one this silo knows.</summary>
    /// <param name="userId">The user the record belongs to.</param>
    /// <returns>The state.</returns>
    public UserPresenceState? ToState(UserId userId) => PresenceStates.TryParse(State, busyEnabled: true, out PresenceState state)
        ? new UserPresenceState(userId, state, LastActiveTs, LastFederationUpdateTs, LastUserSyncTs, StatusMsg, CurrentlyActive)
        : null;

    /// <summary>The record of a state.</summary>
    /// <param name="state">The state.</param>
    /// <param name="mirrored">Whether the state is mirrored from its owner.</param>
    /// <returns>The record.</returns>
    public static PresenceRecord From(UserPresenceState state, bool mirrored) => new()
    {
        State = PresenceStates.ToWireString(state.State),
        LastActiveTs = state.LastActiveTs,
        LastFederationUpdateTs = state.LastFederationUpdateTs,
        LastUserSyncTs = state.LastUserSyncTs,
        StatusMsg = state.StatusMsg,
        CurrentlyActive = state.CurrentlyActive,
        Mirrored = mirrored,
    };
}

/// <summary>What the user grains of a silo share: one reference per grain instead of four.</summary>
internal sealed class UserPresenceServices(PresenceFanout fanout, UserTable users, PresenceWakeups wakeups, PresenceMetrics metrics, IOptions<PresenceOptions> options, TimeProvider timeProvider)
{
    public PresenceWakeups Wakeups { get; } = wakeups;

    public UserTable Users { get; } = users;

    public PresenceFanout Fanout { get; } = fanout;

    public PresenceMetrics Metrics { get; } = metrics;

    public PresenceOptions Options { get; } = options.Value;

    public TimeProvider TimeProvider { get; } = timeProvider;
}

/// <summary>
/// What a deactivated user grain keeps in the silo's user table: the per-device states and the rate-limit buckets,
/// which storage does not hold (as in Synapse, they live in memory), so that a grain deactivated while idle and woken
/// by its timer or the next call carries on exactly where it stopped.
/// </summary>
/// <param name="State">The state the devices belong to (checked against storage on activation).</param>
/// <param name="Devices">The devices.</param>
/// <param name="RateLimits">The rc_presence buckets.</param>
internal sealed record ParkedPresence(UserPresenceState State, ImmutableArray<DevicePresence> Devices, PresenceRateLimits RateLimits);

/// <inheritdoc cref="IUserPresenceGrain"/>
/// <remarks>One activation per active user, so its fields are kept few: shared services sit behind one reference, and
/// "no time" is <see cref="Never"/> rather than a nullable. An idle grain deactivates after two minutes; its next
/// timer stays with the silo's <see cref="PresenceWakeups"/> and its devices with the user table.</remarks>
[GrainType(GrainTypeName), Placement.UserOwnerPlacement, CollectionAgeLimit(Minutes = 2)]
internal sealed class UserPresenceGrain(
    [PersistentState(UserPresenceGrain.StateName)] IPersistentState<PresenceRecord> record,
    UserPresenceServices services) : Grain, IUserPresenceGrain
{
    /// <summary>The grain type's name (the storage key's type part).</summary>
    public const string GrainTypeName = "user";

    /// <summary>The persistent state's name.</summary>
    public const string StateName = "presence";

    /// <summary>The grain type.</summary>
    public static readonly GrainType GrainType = GrainType.Create(GrainTypeName);

    private const long Never = long.MaxValue;
    private const uint LocalUserBit = 1u << 31;
    private const uint MirroredBit = 1u << 30;

    /// <summary>How long a <c>last_active</c>-only change may wait before it is written (Synapse coalesces them too).</summary>
    public static readonly TimeSpan DirtyFlushDelay = TimeSpan.FromMinutes(1);

    private static readonly Task<PresenceCommandResult> AppliedTask = Task.FromResult(PresenceCommandResult.Applied);
    private static readonly Task<PresenceCommandResult> IgnoredTask = Task.FromResult(PresenceCommandResult.Ignored);

    // The aggregate's parts (the aggregate is a value that operations take and give back).
    private UserPresenceState _state = null!;
    private ImmutableArray<DevicePresence> _devices = [];

    // The user's index in the silo's user table (so the fan-out does not look the sender up) in bits 0-29, whether
    // the state is mirrored from its owner (no grid timers) in bit 30, and whether the user is local in bit 31: one
    // field, so the grain's small fields still pack into 8 bytes.
    private uint _user;

    // One wake-up per grain (the silo's PresenceWakeups), due at the earlier of the presence wake-up and the lazy flush.
    private long _wakeAt = Never;
    private long _flushAt = Never; // a last_active-only change waits to be written until then (Never: nothing waits)
    private PresenceRateLimits _rateLimits; // rc_presence: the PUT and the sync buckets

    private PresenceOptions Options => services.Options;

    private UserPresenceAggregate Aggregate
    {
        get => new(_state, _devices, IsMine);
        set
        {
            _state = value.State;
            _devices = value.Devices;
        }
    }

    private PresenceTimings Timings => Options.Timings;

    private int UserIndex => (int)(_user & ~(LocalUserBit | MirroredBit));

    private bool IsMine => (_user & LocalUserBit) != 0;

    /// <summary>The state is the homeserver's, mirrored as given: the grid's timers stay off until a grid input changes the user.</summary>
    private bool IsMirrored => (_user & MirroredBit) != 0;

    private bool HasUnwrittenChange => _flushAt != Never;

    /// <remarks>
    /// First marks the grain active in the user's table entry, so the owner silo's <see cref="MirrorIngest"/> stops
    /// writing the record directly; a direct write that is in flight, or that landed after Orleans read the record for
    /// this activation, is waited for and the record read again (see <see cref="MirroredRecord.EnterGrain"/>).
    /// </remarks>
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        int index = services.Users.InternIndex(this.GetPrimaryKeyString());
        UserTable.Entry user = services.Users[index];
        if (MirroredRecord.EnterGrain(user, record.Etag) is { } mirrored)
        {
            return CatchUpThenActivateAsync(mirrored, index, user);
        }

        return Activate(index, user);
    }

    /// <summary>Waits for the owner silo's direct writes of the record, reads it again if it changed, then activates.</summary>
    private async Task CatchUpThenActivateAsync(MirroredRecord mirrored, int index, UserTable.Entry user)
    {
        try
        {
            await mirrored.Writing.ConfigureAwait(ConfigureAwaitOptions.ContinueOnCapturedContext | ConfigureAwaitOptions.SuppressThrowing);
            if (!mirrored.ETagKnown || mirrored.ETag != record.Etag)
            {
                await record.ReadStateAsync();
            }
        }
        catch
        {
            MirroredRecord.LeaveGrain(user, record.Etag, mirroredState: null, written: false);
            throw;
        }

        await Activate(index, user);
    }

    private Task Activate(int index, UserTable.Entry user)
    {
        UserId userId = user.UserId;
        bool isMine = user.IsLocal;
        _user = (uint)index | (isMine ? LocalUserBit : 0);
        _rateLimits = PresenceRateLimits.Full(Now(), Timings);
        ParkedPresence? parked = user.Parked;
        user.Parked = null;
        if (record.RecordExists && record.State.ToState(userId) is { } stored)
        {
            if (parked is not null && parked.State.Equals(stored))
            {
                // Deactivated while idle on this silo: the devices and buckets it had, not a restart's pseudo-device.
                Aggregate = new UserPresenceAggregate(stored, parked.Devices, isMine);
                _rateLimits = parked.RateLimits;
            }
            else
            {
                Aggregate = UserPresenceAggregate.Restore(stored, isMine);
            }

            if (Options.Mode == PresenceMode.Disabled && stored.State != PresenceState.Offline)
            {
                // Synapse #19948 (_mark_stale_presence_as_offline): with presence disabled, a stale stored state is
                // flushed offline, its status and currently_active cleared (and told to those who saw it), instead
                // of showing forever. StalePresenceFlush activates every such user at start-up.
                return FlushOfflineAsync(stored);
            }

            if (record.State.Mirrored)
            {
                // The owner's state as it was mirrored: no pseudo-device, no timers (the owner times the user out).
                Aggregate = new UserPresenceAggregate(stored, [], isMine);
                _user |= MirroredBit;
                return Task.CompletedTask;
            }

            _wakeAt = PresenceOperations.NextWakeup(Aggregate, Now(), Timings, Options.Mode) ?? Never;
            Reschedule();
        }
        else
        {
            Aggregate = UserPresenceAggregate.Create(userId, isMine);
        }

        return Task.CompletedTask;
    }

    private async Task FlushOfflineAsync(UserPresenceState stored)
    {
        UserPresenceState offline = stored with { State = PresenceState.Offline, StatusMsg = null, CurrentlyActive = false };
        _state = offline;
        _devices = [];
        services.Fanout.Publish(offline, PublishKind.Notify, UserIndex);
        await PersistAsync();
    }

    /// <remarks>
    /// Last, after its last write (or its failure), hands the record's ETag back to the user's table entry and clears
    /// the entry's "grain active" flag: mirrored states are written directly again (<see cref="MirrorIngest"/>).
    /// </remarks>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        bool written = false;
        try
        {
            if (HasUnwrittenChange)
            {
                await PersistAsync();

                // The lazy write is done: only the presence wake-up stays scheduled (else the flush's would wake the grain for nothing).
                Reschedule();
            }

            written = true;
        }
        finally
        {
            MirroredRecord.LeaveGrain(services.Users[UserIndex], record.Etag, IsMirrored ? _state : null, written);
        }

        if (!IsMirrored && !_devices.IsEmpty)
        {
            // Idle collection: the wake-up stays scheduled in the silo's PresenceWakeups and reactivates the grain.
            services.Users[UserIndex].Parked = new ParkedPresence(_state, _devices, _rateLimits);
        }
    }

    public Task Wake() => OnTimerAsync();

    public Task<PresenceCommandResult> SetPresence(string? deviceId, PresenceState presence, string? statusMsg)
    {
        if (Options.Mode != PresenceMode.Enabled)
        {
            return IgnoredPut();
        }

        RequireLocal();
        StatusMessageRules.Validate(statusMsg);
        long now = Now();
        if (TakePutToken(now) is { } limited)
        {
            return limited;
        }

        return ApplyAsync(PresenceOperations.SetState(Aggregate, deviceId, presence, statusMsg, now, Timings, Options.Mode));
    }

    public Task<PresenceCommandResult> IgnoredPut()
    {
        RequireLocal();
        return TakePutToken(Now()) ?? IgnoredTask;
    }

    /// <summary>Takes a token of the PUT bucket: null when allowed, else the rate-limited result.</summary>
    private Task<PresenceCommandResult>? TakePutToken(long now)
    {
        long retryAfter = _rateLimits.TakePut(now, Timings);
        return retryAfter > 0 ? Task.FromResult(new PresenceCommandResult(PresenceCommandOutcome.RateLimited, retryAfter)) : null;
    }

    public Task StartSyncing(string? deviceId, PresenceState setPresence)
    {
        RequireLocal();
        long now = Now();

        // Every sync request costs a token of the sync bucket (not the PUT's), whatever it asks for. Over the
        // limit the sync goes on without affecting presence (Synapse's affect_presence=False): the device does
        // not start syncing, nothing counts as activity, and an offline user stays offline (§7 S14).
        if (_rateLimits.TakeSync(now, Timings) > 0)
        {
            return Task.CompletedTask;
        }

        return ApplyAsync(PresenceOperations.StartSyncing(Aggregate, deviceId, setPresence, now, Timings, Options.Mode));
    }

    public Task KeepAlive(string? deviceId)
    {
        RequireLocal();
        return ApplyAsync(PresenceOperations.KeepAlive(Aggregate, deviceId, Now(), Timings, Options.Mode));
    }

    public Task StopSyncing(string? deviceId)
    {
        RequireLocal();
        return ApplyAsync(PresenceOperations.StopSyncing(Aggregate, deviceId, Now(), Timings, Options.Mode));
    }

    public Task BumpActive(string? deviceId)
    {
        RequireLocal();
        return ApplyAsync(PresenceOperations.BumpActiveTime(Aggregate, deviceId, Now(), Timings, Options.Mode));
    }

    public Task<UserPresenceState> GetPresence() => Task.FromResult(_state);

    public Task ApplyFederationUpdate(FederationPresenceUpdate update)
    {
        if (IsMine)
        {
            throw new MatrixValidationException(MatrixErrorCodes.Forbidden, "user_id", $"{update.UserId} is a local user; federation cannot set its presence.");
        }

        return ApplyAsync(PresenceOperations.ApplyFederationUpdate(Aggregate, update, Now(), Timings, Options.Mode));
    }

    public Task SetPresenceFromModule(PresenceState presence, string? statusMsg) =>
        ApplyAsync(PresenceOperations.SetPresenceFromModule(Aggregate, presence, statusMsg, Now(), Timings, Options.Mode));

    public Task Mirror(UserPresenceState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (!state.UserId.Equals(_state.UserId))
        {
            throw new MatrixValidationException(MatrixErrorCodes.InvalidParam, "user_id", $"a state of {state.UserId} cannot be mirrored into {_state.UserId}.");
        }

        if (Options.Mode == PresenceMode.Disabled)
        {
            return Task.CompletedTask;
        }

        bool wasMirrored = IsMirrored;
        _user |= MirroredBit;
        return ApplyAsync(PresenceOperations.Mirror(Aggregate, state, Now(), Timings, Options.Mode), PublishKind.Mirror, flagChanged: !wasMirrored);
    }

    /// <summary>
    /// Keeps a transition's aggregate, publishes, persists and reschedules. A grid input that changes a mirrored user
    /// hands it back to the grid's state machine; one that changes nothing leaves it mirrored (no timers). A change of
    /// the stored mirrored flag alone (<paramref name="flagChanged"/>) is written lazily, as a last_active-only change is.
    /// </summary>
    /// <returns>
    /// <see cref="PresenceCommandResult.Applied"/>, once written. Not an async method: on the hot path (a change whose
    /// write is still running) the grain resumes once, in <see cref="WrittenThenRescheduleAsync"/>, instead of once per
    /// level of nested async methods (each resumption on the activation's scheduler allocates a continuation), and a
    /// transition with nothing to write returns a cached task.
    /// </returns>
    private Task<PresenceCommandResult> ApplyAsync(PresenceTransition transition, PublishKind kind = PublishKind.Notify, bool flagChanged = false)
    {
        if (kind != PublishKind.Mirror && IsMirrored && transition.Previous != transition.Current)
        {
            _user &= ~MirroredBit;
            flagChanged = true;
            if (!transition.Notify)
            {
                // Nobody is told of this change, yet every silo must stop counting the user as mirrored (its timers run again).
                services.Fanout.PublishHandedBack(transition.Current.State, UserIndex);
            }
        }

        Aggregate = transition.Current;
        if (transition.StateChanged || transition.Notify)
        {
            services.Metrics.Committed(transition.Previous.State.State, transition.Current.State.State, transition.Notify, transition.Reason);
        }

        if (transition.Notify)
        {
            services.Fanout.Publish(transition.Current.State, kind, UserIndex);
            Task writing = WriteRecordAsync();
            if (!writing.IsCompletedSuccessfully)
            {
                return WrittenThenRescheduleAsync(writing, transition);
            }

            _flushAt = Never;
        }
        else
        {
            if (transition.SendFederationPing)
            {
                services.Fanout.Publish(transition.Current.State, PublishKind.FederationPing, UserIndex);
            }

            if (transition.StateChanged || flagChanged)
            {
                // last_active-only changes are written lazily (within a minute, or on deactivation), as Synapse does.
                if (!HasUnwrittenChange)
                {
                    _flushAt = Now() + (long)DirtyFlushDelay.TotalMilliseconds;
                }
            }
        }

        RescheduleAfter(transition);
        return AppliedTask;
    }

    private async Task<PresenceCommandResult> WrittenThenRescheduleAsync(Task writing, PresenceTransition transition)
    {
        await writing;
        _flushAt = Never;
        RescheduleAfter(transition);
        return PresenceCommandResult.Applied;
    }

    private void RescheduleAfter(PresenceTransition transition)
    {
        _wakeAt = IsMirrored ? Never : transition.NextWakeupAt ?? Never;
        Reschedule();
    }

    private async Task OnTimerAsync()
    {
        long now = Now();
        bool rescheduled = false;
        if (_wakeAt <= now)
        {
            // First: a transition that notifies persists, which also covers a flush that is due.
            services.Metrics.TimerFired();
            await ApplyAsync(PresenceOperations.HandleTimer(Aggregate, now, Timings, Options.Mode));
            rescheduled = true;
        }

        if (_flushAt <= now)
        {
            // A failed write leaves the change waiting (and due): the next call or deactivation writes it.
            await PersistAsync();
            rescheduled = false;
        }

        if (!rescheduled)
        {
            Reschedule();
        }
    }

    private void Reschedule() => services.Wakeups.Schedule(UserIndex, Math.Min(_wakeAt, _flushAt));

    private async Task PersistAsync()
    {
        await WriteRecordAsync();
        _flushAt = Never;
    }

    /// <summary>Writes the current state as the stored record (the caller marks the lazy flush done once it completes).</summary>
    private Task WriteRecordAsync()
    {
        record.State = PresenceRecord.From(_state, IsMirrored);
        return record.WriteStateAsync();
    }

    private void RequireLocal()
    {
        if (!IsMine)
        {
            throw new MatrixValidationException(MatrixErrorCodes.InvalidParam, "user_id", $"{_state.UserId} is not a local user of this grid.");
        }
    }

    private long Now() => services.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();
}
