using Microsoft.Extensions.Logging;
using PresenceGrid.Matrix;
using PresenceGrid.Modules;
using PresenceGrid.Routing.Tests.Infrastructure;
using static PresenceGrid.Routing.Tests.Infrastructure.TestData;

namespace PresenceGrid.Routing.Tests;

public sealed class GetUsersForStatesMergeTests : IDisposable
{
    private readonly RouterHarness _h = new();

    public void Dispose() => _h.Dispose();

    [Fact]
    public async Task NoCallbacks_ReturnsEmpty()
    {
        var result = await _h.Pipeline.GetUsersForStatesAsync([S("@a:example.org")]);

        Assert.Empty(result);
        Assert.False(_h.Pipeline.HasPresenceRouter);
    }

    [Fact]
    public async Task TwoModulesOnOneKey_AreUnitedPerKey()
    {
        // §7 suggested test: A returns {X:{s1}}, B returns {X:{s2},Y:{s3}} → X={s1,s2}, Y={s3}.
        var (s1, s2, s3) = (S("@s1:example.org"), S("@s2:example.org"), S("@s3:example.org"));
        _h.AddRouter("A", Returns(Routes(("@x:example.org", [s1]))), NoInterest);
        _h.AddRouter("B", Returns(Routes(("@x:example.org", [s2]), ("@y:remote.example", [s3]))), NoInterest);

        var result = await _h.Pipeline.GetUsersForStatesAsync([s1, s2, s3]);

        Assert.Equal(2, result.Count);
        Assert.Equal([s1, s2], result[U("@x:example.org")].OrderBy(static s => s.UserId.ToString()));
        Assert.Equal([s3], result[U("@y:remote.example")]);
        Assert.Empty(_h.Metrics.Failures());
    }

    [Fact]
    public async Task States_AreMaterialisedOnce_AndEveryCallbackSeesTheSameList()
    {
        var enumerations = 0;
        IEnumerable<UserPresenceState> Lazy()
        {
            enumerations++;
            yield return S("@a:example.org");
            yield return S("@b:example.org");
        }

        var seen = new List<IReadOnlyList<UserPresenceState>>();
        GetUsersForStatesCallback record = states =>
        {
            seen.Add(states);
            return Task.FromResult(Routes());
        };
        _h.AddRouter("A", record, NoInterest);
        _h.AddRouter("B", record, NoInterest);

        await _h.Pipeline.GetUsersForStatesAsync(Lazy());

        Assert.Equal(1, enumerations);
        Assert.Equal(2, seen.Count);
        Assert.Same(seen[0], seen[1]);
        Assert.Equal(2, seen[0].Count);
        Assert.IsNotType<List<UserPresenceState>>(seen[0]);
    }

    [Fact]
    public async Task ThrowingModules_AreSkipped_OthersStillApply_AndCounted()
    {
        var s = S("@a:example.org");
        _h.AddRouter("SyncThrower", _ => throw new InvalidOperationException("boom"), NoInterest);
        _h.AddRouter("Good", Returns(Routes(("@x:example.org", [s]))), NoInterest);
        _h.AddRouter("AsyncThrower", async _ =>
        {
            await Task.Yield();
            throw new InvalidOperationException("later boom");
        }, NoInterest);

        var result = await _h.Pipeline.GetUsersForStatesAsync([s]);

        Assert.Equal([s], result[U("@x:example.org")]);
        Assert.Single(_h.Metrics.Failures(RoutingInstruments.KindException, "SyncThrower"));
        Assert.Single(_h.Metrics.Failures(RoutingInstruments.KindException, "AsyncThrower"));
        Assert.Empty(_h.Metrics.Failures(module: "Good"));
        var warnings = _h.Logs.Entries.Where(static e => e.EventId.Id == 3000).ToList();
        Assert.Equal(2, warnings.Count);
        Assert.All(warnings, static w => Assert.Equal(LogLevel.Warning, w.Level));
        Assert.Equal("get_users_for_states", _h.Metrics.Failures(RoutingInstruments.KindException)[0].Tags["callback"]);
    }

    [Fact]
    public async Task NullResult_IsSkipped_AndCountedMalformed()
    {
        var s = S("@a:example.org");
        _h.AddRouter("Null", Returns(null), NoInterest);
        _h.AddRouter("Good", Returns(Routes(("@x:example.org", [s]))), NoInterest);

        var result = await _h.Pipeline.GetUsersForStatesAsync([s]);

        Assert.Single(result);
        Assert.Single(_h.Metrics.Failures(RoutingInstruments.KindMalformed, "Null"));
        Assert.Contains(_h.Logs.Entries, static e => e.EventId.Id == 3002);
    }

    [Fact]
    public async Task NullTask_IsTreatedAsNullResult()
    {
        _h.AddRouter("NullTask", _ => null!, NoInterest);

        var result = await _h.Pipeline.GetUsersForStatesAsync([S("@a:example.org")]);

        Assert.Empty(result);
        Assert.Single(_h.Metrics.Failures(RoutingInstruments.KindMalformed, "NullTask"));
    }

    [Fact]
    public async Task NullSetValue_StopsTheRestOfThatResult_PartialMerge()
    {
        // Synapse's "not a set" rule: entries before the bad one are kept, the ones after it are dropped; other modules are unaffected.
        var s = S("@a:example.org");
        _h.AddRouter("Partial", Returns(Routes(("@first:example.org", [s]), ("@bad:example.org", null), ("@third:example.org", [s]))), NoInterest);
        _h.AddRouter("Other", Returns(Routes(("@other:example.org", [s]))), NoInterest);

        var result = await _h.Pipeline.GetUsersForStatesAsync([s]);

        Assert.Equal(["@first:example.org", "@other:example.org"], result.Keys.Select(static k => k.ToString()).Order());
        Assert.Single(_h.Metrics.Failures(RoutingInstruments.KindMalformed, "Partial"));
        var entry = Assert.Single(_h.Logs.Entries, static e => e.EventId.Id == 3003);
        Assert.Contains("entry 1", entry.Message, StringComparison.Ordinal);
        Assert.Contains("a null set", entry.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidMxidKey_StopsTheRestOfThatResult()
    {
        var s = S("@a:example.org");
        _h.AddRouter("BadKey", Returns(Routes(("@first:example.org", [s]), ("not-a-user", [s]), ("@third:example.org", [s]))), NoInterest);

        var result = await _h.Pipeline.GetUsersForStatesAsync([s]);

        Assert.Equal([U("@first:example.org")], result.Keys);
        Assert.Single(_h.Metrics.Failures(RoutingInstruments.KindMalformed, "BadKey"));
        // The bad key is not logged (module output is not logged).
        Assert.DoesNotContain(_h.Logs.Entries, static e => e.Message.Contains("not-a-user", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SlowModule_TimesOutByTheManualClock_IsSkippedAndCounted()
    {
        var s = S("@a:example.org");
        var never = new TaskCompletionSource<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>?>();
        _h.AddRouter("Good", Returns(Routes(("@x:example.org", [s]))), NoInterest);
        _h.AddRouter("Slow", _ => never.Task, NoInterest);

        var pending = _h.Pipeline.GetUsersForStatesAsync([s]);
        _h.Clock.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(pending.IsCompleted);
        _h.Clock.Advance(TimeSpan.FromMilliseconds(1));
        var result = await pending;

        Assert.Equal([s], result[U("@x:example.org")]);
        Assert.Single(_h.Metrics.Failures(RoutingInstruments.KindTimeout, "Slow"));
        Assert.Equal(1.0, Assert.Single(_h.Metrics.Durations("Slow")).Value, 3);
        Assert.Contains(_h.Logs.Entries, static e => e.EventId.Id == 3001 && e.Message.Contains("1000 ms", StringComparison.Ordinal));
        Assert.Equal(0, _h.Clock.ActiveTimerCount);

        // The abandoned callback finishing later changes nothing.
        never.SetException(new InvalidOperationException("too late"));
        Assert.Empty(_h.Metrics.Failures(RoutingInstruments.KindException));
    }

    [Fact]
    public async Task Timeout_IsConfigurable()
    {
        using var h = new RouterHarness(TimeSpan.FromMilliseconds(250));
        var never = new TaskCompletionSource<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>?>();
        h.AddRouter("Slow", _ => never.Task, NoInterest);

        var pending = h.Pipeline.GetUsersForStatesAsync([S("@a:example.org")]);
        h.Clock.Advance(TimeSpan.FromMilliseconds(250));

        Assert.Empty(await pending);
        Assert.Single(h.Metrics.Failures(RoutingInstruments.KindTimeout));
    }

    [Fact]
    public async Task ModulesOwnTimeoutException_IsCountedAsAnException()
    {
        _h.AddRouter("Thrower", _ => Task.FromException<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>?>(new TimeoutException("db")), NoInterest);

        await _h.Pipeline.GetUsersForStatesAsync([S("@a:example.org")]);

        Assert.Single(_h.Metrics.Failures(RoutingInstruments.KindException));
        Assert.Empty(_h.Metrics.Failures(RoutingInstruments.KindTimeout));
    }

    [Fact]
    public async Task CallerCancellation_Propagates()
    {
        var never = new TaskCompletionSource<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>?>();
        _h.AddRouter("Slow", _ => never.Task, NoInterest);
        using var cts = new CancellationTokenSource();

        var pending = _h.Pipeline.GetUsersForStatesAsync([S("@a:example.org")], cts.Token);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
        Assert.Empty(_h.Metrics.Failures());
    }

    [Fact]
    public async Task Duration_IsRecordedForEveryCall_WithModuleAndCallbackTags()
    {
        var s = S("@a:example.org");
        var slow = new TaskCompletionSource<IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>?>();
        _h.AddRouter("Slowish", _ => slow.Task, NoInterest);

        var pending = _h.Pipeline.GetUsersForStatesAsync([s]);
        _h.Clock.Advance(TimeSpan.FromMilliseconds(300));
        slow.SetResult(Routes(("@x:example.org", [s])));
        await pending;

        var duration = Assert.Single(_h.Metrics.Durations());
        Assert.Equal(0.3, duration.Value, 3);
        Assert.Equal("Slowish", duration.Tags["module"]);
        Assert.Equal("get_users_for_states", duration.Tags["callback"]);
    }

    [Fact]
    public async Task NullElementsInASet_AreDropped()
    {
        var s = S("@a:example.org");
        var set = new HashSet<UserPresenceState> { s, null! };
        _h.AddRouter("A", Returns(new Dictionary<string, IReadOnlySet<UserPresenceState>> { ["@x:example.org"] = set }), NoInterest);

        var result = await _h.Pipeline.GetUsersForStatesAsync([s]);

        Assert.Equal([s], result[U("@x:example.org")]);
    }

    [Fact]
    public async Task Logs_NeverContainPresencePayloads()
    {
        var secret = S("@a:example.org", status: "in a secret meeting");
        _h.AddRouter("Thrower", _ => throw new InvalidOperationException("boom"), NoInterest);
        _h.AddRouter("Partial", Returns(Routes(("@x:example.org", [secret]), ("@y:example.org", null))), NoInterest);

        await _h.Pipeline.GetUsersForStatesAsync([secret]);

        Assert.NotEmpty(_h.Logs.Entries);
        Assert.DoesNotContain(_h.Logs.Entries, static e => e.Message.Contains("secret", StringComparison.Ordinal));
    }
}
