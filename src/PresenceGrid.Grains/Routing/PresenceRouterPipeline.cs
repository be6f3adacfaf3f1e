using System.Collections.ObjectModel;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PresenceGrid.Matrix;
using PresenceGrid.Modules;

namespace PresenceGrid.Routing;

/// <summary>
/// The registered presence router callbacks, in order (<c>modules:</c> entries in configuration order, then the legacy router),
/// and Synapse's merge rules (<c>synapse/events/presence_router.py</c>).
/// </summary>
/// <remarks>
/// Every callback call is bounded by <see cref="RouterOptions.ModuleCallbackTimeout"/>, measured with the injected
/// <see cref="TimeProvider"/>. A callback that throws, times out or returns null is logged, counted and skipped (modules are
/// fail-open, as in Synapse). Callbacks are registered at start-up only (<see cref="Seal"/>); the arrays are then read without locks.
/// </remarks>
internal sealed class PresenceRouterPipeline : IDisposable
{
    private static readonly IReadOnlyDictionary<UserId, HashSet<UserPresenceState>> EmptyRouting =
        new ReadOnlyDictionary<UserId, HashSet<UserPresenceState>>(new Dictionary<UserId, HashSet<UserPresenceState>>());

    private static readonly IReadOnlyDictionary<UserId, HashSet<UserId>> EmptyReplacement =
        new ReadOnlyDictionary<UserId, HashSet<UserId>>(new Dictionary<UserId, HashSet<UserId>>());

    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _timeout;
    private readonly ILogger _logger;
    private readonly RoutingInstruments _instruments;
    private readonly Lock _registrationLock = new();

    private Registered<GetUsersForStatesCallback>[] _usersForStates = [];
    private Registered<GetInterestedUsersCallback>[] _interestedUsers = [];
    private Registered<ReplaceRoomRecipientsCallback>[] _replacements = [];
    private bool _sealed;

    public PresenceRouterPipeline(IOptions<RouterOptions> options, TimeProvider timeProvider, ILogger<PresenceRouterPipeline> logger, RoutingInstruments instruments)
    {
        ArgumentNullException.ThrowIfNull(options);
        _timeout = options.Value.ModuleCallbackTimeout;
        _timeProvider = timeProvider;
        _logger = logger;
        _instruments = instruments;
    }

    /// <summary>Whether any module registered presence router callbacks (then both lists are non-empty).</summary>
    public bool HasPresenceRouter => _usersForStates.Length > 0;

    /// <summary>Whether any module registered a room recipients replacement.</summary>
    public bool HasRoomRecipientsReplacement => _replacements.Length > 0;

    /// <summary>The modules with presence router callbacks, in call order.</summary>
    public IEnumerable<ModuleIdentity> PresenceRouterModules => _usersForStates.Select(static r => r.Module);

    /// <summary>
    /// Appends a module's router callbacks. Exactly one of the two fails start-up (Synapse raises RuntimeError); neither is a no-op.
    /// </summary>
    /// <exception cref="ModuleLoadException">Exactly one callback was given.</exception>
    /// <exception cref="InvalidOperationException">The pipeline is sealed.</exception>
    public void AddPresenceRouterCallbacks(ModuleIdentity module, GetUsersForStatesCallback? getUsersForStates, GetInterestedUsersCallback? getInterestedUsers)
    {
        ArgumentNullException.ThrowIfNull(module);
        if ((getUsersForStates is null) != (getInterestedUsers is null))
        {
            var (given, missing) = getUsersForStates is null
                ? (RouterCallbackNames.GetInterestedUsers, RouterCallbackNames.GetUsersForStates)
                : (RouterCallbackNames.GetUsersForStates, RouterCallbackNames.GetInterestedUsers);
            throw new ModuleLoadException(module.Name, module.Location,
                $"it registered the presence router callback {given} without {missing}; a presence router must register both callbacks or neither.");
        }

        if (getUsersForStates is null || getInterestedUsers is null)
        {
            return;
        }

        lock (_registrationLock)
        {
            ThrowIfSealed(module);
            _usersForStates = [.. _usersForStates, new(module, getUsersForStates)];
            _interestedUsers = [.. _interestedUsers, new(module, getInterestedUsers)];
        }
    }

    /// <summary>Appends a module's room recipients replacement.</summary>
    /// <exception cref="InvalidOperationException">The pipeline is sealed.</exception>
    public void AddRoomRecipientsReplacement(ModuleIdentity module, ReplaceRoomRecipientsCallback callback)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(callback);
        lock (_registrationLock)
        {
            ThrowIfSealed(module);
            _replacements = [.. _replacements, new(module, callback)];
        }
    }

    /// <summary>Ends start-up: later registrations throw.</summary>
    public void Seal()
    {
        lock (_registrationLock)
        {
            _sealed = true;
        }
    }

    /// <summary>
    /// Merged <c>get_users_for_states</c>: each callback in order with the same materialised list; per-key union. A callback that
    /// throws, times out or returns null is skipped; a null set or an invalid MXID key stops the rest of that callback's entries.
    /// </summary>
    /// <param name="states">The batch.</param>
    /// <param name="cancellationToken">Cancels the wait for the current callback (the callback itself is not cancelled).</param>
    /// <returns>Recipient → the states it additionally receives. Empty (and shared) when no module is registered. Do not modify.</returns>
    public Task<IReadOnlyDictionary<UserId, HashSet<UserPresenceState>>> GetUsersForStatesAsync(
        IEnumerable<UserPresenceState> states, CancellationToken cancellationToken = default) =>
        GetUsersForStatesAsync(states, trace: null, cancellationToken);

    /// <inheritdoc cref="GetUsersForStatesAsync(IEnumerable{UserPresenceState}, CancellationToken)"/>
    /// <param name="states">The batch.</param>
    /// <param name="trace">Records what each module contributed (explain), or null.</param>
    /// <param name="cancellationToken">Cancels the wait for the current callback.</param>
    public async Task<IReadOnlyDictionary<UserId, HashSet<UserPresenceState>>> GetUsersForStatesAsync(
        IEnumerable<UserPresenceState> states, RoutingTrace? trace, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(states);
        var callbacks = _usersForStates;
        if (callbacks.Length == 0)
        {
            return EmptyRouting;
        }

        var list = Materialise(states);
        Dictionary<UserId, HashSet<UserPresenceState>>? merged = null;
        foreach (var registered in callbacks)
        {
            Task<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>?> task;
            var started = _timeProvider.GetTimestamp();
            try
            {
                task = registered.Callback(list);
            }
            catch (Exception e)
            {
                OnException(registered.Module, RouterCallbackNames.GetUsersForStates, started, e);
                continue;
            }

            var (ok, result) = await AwaitAsync(registered.Module, RouterCallbackNames.GetUsersForStates, task, started, cancellationToken);
            if (!ok)
            {
                continue;
            }

            merged ??= [];
            MergeUsersForStates(registered.Module, result!, merged, trace);
        }

        return merged is null || merged.Count == 0 ? EmptyRouting : merged;
    }

    /// <summary>
    /// Merged <c>get_interested_users</c>: callbacks in order; ALL returns at once (later callbacks are not called); null, exceptions
    /// and timeouts are skipped; sets are united, invalid MXIDs dropped with a warning.
    /// </summary>
    /// <param name="userId">The syncing local user.</param>
    /// <param name="cancellationToken">Cancels the wait for the current callback.</param>
    /// <returns>ALL, or the additional users.</returns>
    public Task<RouterInterest> GetInterestedUsersAsync(UserId userId, CancellationToken cancellationToken = default) =>
        GetInterestedUsersAsync(userId, trace: null, cancellationToken);

    /// <inheritdoc cref="GetInterestedUsersAsync(UserId, CancellationToken)"/>
    /// <param name="userId">The syncing local user.</param>
    /// <param name="trace">Records what each module contributed (explain), or null.</param>
    /// <param name="cancellationToken">Cancels the wait for the current callback.</param>
    public async Task<RouterInterest> GetInterestedUsersAsync(UserId userId, RoutingTrace? trace, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(userId);
        var callbacks = _interestedUsers;
        if (callbacks.Length == 0)
        {
            return RouterInterest.None;
        }

        var id = userId.ToString();
        HashSet<UserId>? merged = null;
        foreach (var registered in callbacks)
        {
            Task<InterestedUsers?> task;
            var started = _timeProvider.GetTimestamp();
            try
            {
                task = registered.Callback(id);
            }
            catch (Exception e)
            {
                OnException(registered.Module, RouterCallbackNames.GetInterestedUsers, started, e);
                continue;
            }

            var (ok, result) = await AwaitAsync(registered.Module, RouterCallbackNames.GetInterestedUsers, task, started, cancellationToken);
            if (!ok)
            {
                continue;
            }

            if (result!.IsAll)
            {
                if (trace is not null)
                {
                    trace.AllFrom = registered.Module;
                }

                return RouterInterest.All;
            }

            if (result.UserIds.Count == 0)
            {
                continue;
            }

            merged ??= [];
            List<UserId>? listed = trace is null ? null : [];
            var invalid = AddUserIds(result.UserIds, merged, listed);
            if (trace is not null)
            {
                foreach (UserId user in listed!)
                {
                    trace.Interested.Add((registered.Module, user));
                }
            }

            if (invalid > 0)
            {
                RoutingLog.InvalidUserIdsDropped(_logger, registered.Module.Name, registered.Module.Location, RouterCallbackNames.GetInterestedUsers, invalid);
                _instruments.Failure(registered.Module, RouterCallbackNames.GetInterestedUsers, RoutingInstruments.KindMalformed);
            }
        }

        return merged is null ? RouterInterest.None : RouterInterest.Of(merged);
    }

    /// <summary>
    /// Merged room recipients replacement: per sender, the union of the sets of all modules that list it. Failures as for
    /// <see cref="GetUsersForStatesAsync(IEnumerable{UserPresenceState}, CancellationToken)"/>; invalid recipient MXIDs are dropped with a warning.
    /// </summary>
    /// <param name="states">The batch.</param>
    /// <param name="cancellationToken">Cancels the wait for the current callback.</param>
    /// <returns>Sender → the recipients that replace its room-based recipients. Senders not listed keep the default.
    /// Keys that are not senders of the batch are left in and should be ignored by the caller.</returns>
    public Task<IReadOnlyDictionary<UserId, HashSet<UserId>>> ReplaceRoomRecipientsAsync(
        IEnumerable<UserPresenceState> states, CancellationToken cancellationToken = default) =>
        ReplaceRoomRecipientsAsync(states, trace: null, cancellationToken);

    /// <inheritdoc cref="ReplaceRoomRecipientsAsync(IEnumerable{UserPresenceState}, CancellationToken)"/>
    /// <param name="states">The batch.</param>
    /// <param name="trace">Records what each module contributed (explain), or null.</param>
    /// <param name="cancellationToken">Cancels the wait for the current callback.</param>
    public async Task<IReadOnlyDictionary<UserId, HashSet<UserId>>> ReplaceRoomRecipientsAsync(
        IEnumerable<UserPresenceState> states, RoutingTrace? trace, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(states);
        var callbacks = _replacements;
        if (callbacks.Length == 0)
        {
            return EmptyReplacement;
        }

        var list = Materialise(states);
        Dictionary<UserId, HashSet<UserId>>? merged = null;
        foreach (var registered in callbacks)
        {
            Task<IReadOnlyDictionary<string, IReadOnlySet<string>>?> task;
            var started = _timeProvider.GetTimestamp();
            try
            {
                task = registered.Callback(list);
            }
            catch (Exception e)
            {
                OnException(registered.Module, RouterCallbackNames.ReplaceRoomRecipients, started, e);
                continue;
            }

            var (ok, result) = await AwaitAsync(registered.Module, RouterCallbackNames.ReplaceRoomRecipients, task, started, cancellationToken);
            if (!ok)
            {
                continue;
            }

            merged ??= [];
            MergeReplacement(registered.Module, result!, merged, trace);
        }

        return merged is null || merged.Count == 0 ? EmptyReplacement : merged;
    }

    public void Dispose() => _instruments.Dispose();

    private static ReadOnlyCollection<UserPresenceState> Materialise(IEnumerable<UserPresenceState> states) =>
        states as ReadOnlyCollection<UserPresenceState> ?? Array.AsReadOnly(states.ToArray());

    private static int AddUserIds(IReadOnlySet<string> userIds, HashSet<UserId> target, List<UserId>? added = null)
    {
        var invalid = 0;
        foreach (var value in userIds)
        {
            if (UserId.TryParse(value, out var userId))
            {
                target.Add(userId);
                added?.Add(userId);
            }
            else
            {
                invalid++;
            }
        }

        return invalid;
    }

    private void MergeUsersForStates(
        ModuleIdentity module,
        IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>> result,
        Dictionary<UserId, HashSet<UserPresenceState>> merged,
        RoutingTrace? trace)
    {
        var index = 0;
        foreach (var (key, value) in result)
        {
            string? problem = null;
            UserId? recipient = null;
            if (value is null)
            {
                problem = "a null set";
            }
            else if (!UserId.TryParse(key, out recipient))
            {
                problem = "an invalid user id as key";
            }

            if (problem is not null)
            {
                RoutingLog.ResultEntryInvalid(_logger, module.Name, module.Location, RouterCallbackNames.GetUsersForStates, index, problem, index);
                _instruments.Failure(module, RouterCallbackNames.GetUsersForStates, RoutingInstruments.KindMalformed);
                return;
            }

            if (!merged.TryGetValue(recipient!, out var set))
            {
                merged[recipient!] = set = new HashSet<UserPresenceState>(value!.Count);
            }

            foreach (var state in value!)
            {
                // Synapse does not validate element types; a null element cannot be delivered, so it is dropped.
                if (state is not null)
                {
                    set.Add(state);
                    trace?.Routed.Add((module, recipient!, state));
                }
            }

            index++;
        }
    }

    private void MergeReplacement(
        ModuleIdentity module,
        IReadOnlyDictionary<string, IReadOnlySet<string>> result,
        Dictionary<UserId, HashSet<UserId>> merged,
        RoutingTrace? trace)
    {
        var index = 0;
        var invalid = 0;
        foreach (var (key, value) in result)
        {
            string? problem = null;
            UserId? sender = null;
            if (value is null)
            {
                problem = "a null set";
            }
            else if (!UserId.TryParse(key, out sender))
            {
                problem = "an invalid user id as key";
            }

            if (problem is not null)
            {
                RoutingLog.ResultEntryInvalid(_logger, module.Name, module.Location, RouterCallbackNames.ReplaceRoomRecipients, index, problem, index);
                _instruments.Failure(module, RouterCallbackNames.ReplaceRoomRecipients, RoutingInstruments.KindMalformed);
                break;
            }

            if (!merged.TryGetValue(sender!, out var set))
            {
                merged[sender!] = set = new HashSet<UserId>(value!.Count);
            }

            List<UserId>? listed = trace is null ? null : [];
            invalid += AddUserIds(value!, set, listed);
            if (trace is not null)
            {
                foreach (UserId recipient in listed!)
                {
                    trace.Replaced.Add((module, sender!, recipient));
                }
            }

            index++;
        }

        if (invalid > 0)
        {
            RoutingLog.InvalidUserIdsDropped(_logger, module.Name, module.Location, RouterCallbackNames.ReplaceRoomRecipients, invalid);
            _instruments.Failure(module, RouterCallbackNames.ReplaceRoomRecipients, RoutingInstruments.KindMalformed);
        }
    }

    /// <summary>
    /// Waits for a callback's task within the timeout. Returns (true, value) for a non-null value; logs, counts and returns false otherwise.
    /// Caller cancellation propagates (Synapse re-raises cancellation).
    /// </summary>
    private async ValueTask<(bool Ok, T? Value)> AwaitAsync<T>(
        ModuleIdentity module, string callback, Task<T?>? task, long started, CancellationToken cancellationToken)
        where T : class
    {
        if (task is null)
        {
            // A synchronous implementation returned no Task at all: treat it like a null result.
            _instruments.Duration(module, callback, _timeProvider.GetElapsedTime(started));
            OnNull(module, callback);
            return (false, null);
        }

        T? value;
        try
        {
            value = task.IsCompleted ? await task : await task.WaitAsync(_timeout, _timeProvider, cancellationToken);
        }
        catch (TimeoutException e) when (!IsOwnException(task, e))
        {
            _instruments.Duration(module, callback, _timeProvider.GetElapsedTime(started));
            ObserveLater(task);
            RoutingLog.CallbackTimedOut(_logger, module.Name, module.Location, callback, _timeout.TotalMilliseconds);
            _instruments.Failure(module, callback, RoutingInstruments.KindTimeout);
            return (false, null);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            ObserveLater(task);
            throw;
        }
        catch (Exception e)
        {
            OnException(module, callback, started, e);
            return (false, null);
        }

        _instruments.Duration(module, callback, _timeProvider.GetElapsedTime(started));
        if (value is null)
        {
            OnNull(module, callback);
            return (false, null);
        }

        return (true, value);
    }

    private static bool IsOwnException(Task task, Exception e) =>
        task.IsFaulted && ReferenceEquals(task.Exception?.InnerException, e);

    /// <summary>A callback abandoned on timeout keeps running; observe its eventual failure so it is not reported as unobserved.</summary>
    private static void ObserveLater(Task task) =>
        task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    private void OnException(ModuleIdentity module, string callback, long started, Exception e)
    {
        _instruments.Duration(module, callback, _timeProvider.GetElapsedTime(started));
        RoutingLog.CallbackFailed(_logger, module.Name, module.Location, callback, e);
        _instruments.Failure(module, callback, RoutingInstruments.KindException);
    }

    private void OnNull(ModuleIdentity module, string callback)
    {
        RoutingLog.CallbackReturnedNull(_logger, module.Name, module.Location, callback);
        _instruments.Failure(module, callback, RoutingInstruments.KindMalformed);
    }

    private void ThrowIfSealed(ModuleIdentity module)
    {
        if (_sealed)
        {
            throw new InvalidOperationException(
                $"Module {module} tried to register callbacks after start-up; register them in the module's constructor.");
        }
    }

    private readonly record struct Registered<TCallback>(ModuleIdentity Module, TCallback Callback);
}
