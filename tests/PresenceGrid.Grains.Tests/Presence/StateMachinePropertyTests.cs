using System.Text;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using PresenceGrid.Matrix;
using static PresenceGrid.Presence.Tests.TestIds;

namespace PresenceGrid.Presence.Tests;

/// <summary>
/// The presence state machine's invariants on random sequences of a local user's inputs (set state, start, keep alive
/// and stop syncing, activity, time passing) over random valid timings (issue 18). The timer fires exactly when
/// <see cref="PresenceTransition.NextWakeupAt"/> says, as an actor's does; after every step:
/// <list type="bullet">
/// <item>the shown state is the best of the devices' states (busy &gt; online &gt; unavailable &gt; offline; none: offline);</item>
/// <item>timers never fire early: a device idles, leaves, or stops being currently active only once its timeout has passed;</item>
/// <item>nor late: a timer run at any instant before the wake-up changes nothing;</item>
/// <item>wake-ups make progress: one timer run handles everything due, so the next wake-up is later;</item>
/// <item>currently_active is shown only when online, and only within the granularity of the last activity;</item>
/// <item>last_active never moves back nor into the future; a timer never changes status_msg;</item>
/// <item>left alone long enough, a user with no syncing device ends offline.</item>
/// </list>
/// </summary>
public sealed class StateMachinePropertyTests
{
    private static readonly Config Runs = Config.QuickThrowOnFailure.WithMaxTest(500).WithReplay(0x5EED_0C0DEUL, 0x9E37_79B9_7F4A_7C15UL);

    private static readonly string?[] Devices = ["A", "B", "C", null];

    private static readonly PresenceState[] States = [PresenceState.Online, PresenceState.Unavailable, PresenceState.Offline, PresenceState.Busy];

    /// <summary>One input: what it is, the device, the presence or status it carries, or the time it lets pass.</summary>
    public sealed record Step(string Kind, string? Device, PresenceState Presence, string? Status, long Ms)
    {
        public override string ToString() => Kind switch
        {
            "set" => $"set({Device ?? "-"}, {Presence}, {(Status is null ? "null" : $"\"{Status}\"")})",
            "start" => $"start({Device ?? "-"}, {Presence})",
            "wait" => $"wait({Ms})",
            _ => $"{Kind}({Device ?? "-"})",
        };
    }

    /// <summary>A run: timings (small, so that every timer is reached) and the inputs.</summary>
    public sealed record Scenario(PresenceTimings Timings, Step[] Steps)
    {
        public override string ToString()
        {
            var t = Timings;
            return $"granularity {t.LastActiveGranularityMs}, sync {t.SyncOnlineTimeoutMs}, idle {t.IdleTimeoutMs}, busy {t.BusyOnlineTimeoutMs}, "
                + $"ping {t.FederationPingIntervalMs}, keep-alive {t.SyncKeepAliveExpiryMs}: {string.Join(", ", Steps.Select(s => s.ToString()))}";
        }
    }

    [Fact]
    public void Invariants_hold_on_random_input_sequences()
    {
        Prop.ForAll(Arb.From(Scenarios, Shrink), scenario => Run(scenario)).Check(Runs);
    }

    [Fact]
    public void Invariants_hold_with_Synapse_default_timings()
    {
        Gen<Scenario> withDefaults = StepsFor(new PresenceTimings()).Select(steps => new Scenario(new PresenceTimings(), steps));
        Prop.ForAll(Arb.From(withDefaults, Shrink), scenario => Run(scenario)).Check(Runs);
    }

    private static void Run(Scenario scenario)
    {
        PresenceTimings timings = scenario.Timings;
        var sim = PresenceSim.Local("@fuzz:test", T0, timings);
        var log = new StringBuilder();
        long lastActive = sim.State.LastActiveTs;
        foreach (Step step in scenario.Steps)
        {
            log.Append(step).Append("; ");
            if (step.Kind == "wait")
            {
                long target = sim.Now + step.Ms;
                while (sim.NextWakeup is { } due && due <= target)
                {
                    AssertNothingDueBefore(sim, due, log);
                    UserPresenceAggregate before = sim.Aggregate;
                    int firings = sim.TimerFirings;

                    // As an actor does: at the wake-up, or at once when it is already past (a user's devices are not
                    // timed out while the user is offline, so a device can be overdue when the user comes back).
                    sim.AdvanceTo(Math.Max(due, sim.Now));
                    Assert.True(sim.TimerFirings == firings + 1, $"one timer run did not handle everything due at {Math.Max(due, sim.Now) - T0}: {log}");
                    AssertNotEarly(before, sim, log);
                    AssertInvariants(sim, ref lastActive, log);
                }

                if (sim.NextWakeup is { } later)
                {
                    AssertNothingDueBefore(sim, Math.Min(later, target + 1), log);
                }

                sim.AdvanceTo(target);
            }
            else
            {
                Apply(sim, step);
            }

            AssertInvariants(sim, ref lastActive, log);
        }

        // Left alone: every device's lease and timeout runs out, so the user ends offline.
        sim.AdvanceBy(timings.SyncKeepAliveExpiryMs + timings.BusyOnlineTimeoutMs + timings.IdleTimeoutMs + timings.SyncOnlineTimeoutMs + 2);
        Assert.True(sim.State.State == PresenceState.Offline, $"left alone, the user stays {sim.State.State}: {log}");
    }

    private static void Apply(PresenceSim sim, Step step)
    {
        switch (step.Kind)
        {
            case "set":
                sim.SetState(step.Device, step.Presence, step.Status);
                break;
            case "start":
                sim.StartSyncing(step.Device, step.Presence);
                break;
            case "keepalive":
                sim.KeepAlive(step.Device);
                break;
            case "stop":
                sim.StopSyncing(step.Device);
                break;
            case "bump":
                sim.Bump(step.Device);
                break;
            default:
                throw new InvalidOperationException(step.Kind);
        }
    }

    /// <summary>What a timer run did was due: a device idles only after idle_timeout without activity, leaves only when not
    /// syncing and silent for longer than its timeout, currently_active ends only after the granularity; status_msg stays.</summary>
    private static void AssertNotEarly(UserPresenceAggregate before, PresenceSim sim, StringBuilder log)
    {
        long now = sim.Now;
        PresenceTimings t = sim.Timings;
        string where = $"at {now - T0}: {Describe(before)} -> {Describe(sim.Aggregate)}; {log}";
        foreach (DevicePresence device in before.Devices)
        {
            DevicePresence? after = sim.Aggregate.FindDevice(device.DeviceId);
            if (after is null)
            {
                long timeout = device.State == PresenceState.Busy ? t.BusyOnlineTimeoutMs : t.SyncOnlineTimeoutMs;
                Assert.True(!device.IsSyncingAt(now) && now - Math.Max(device.LastSyncTs, device.LastActiveTs) > timeout, $"device {device.DeviceId} removed early {where}");
            }
            else if (after.Value.State != device.State)
            {
                Assert.True(device.State == PresenceState.Online && after.Value.State == PresenceState.Unavailable && now - device.LastActiveTs > t.IdleTimeoutMs, $"device {device.DeviceId} idled early {where}");
            }
        }

        if (before.State.CurrentlyActive && !sim.State.CurrentlyActive && sim.State.State == PresenceState.Online)
        {
            Assert.True(now - before.State.LastActiveTs >= t.LastActiveGranularityMs, $"currently_active ended early {where}");
        }

        Assert.True(before.State.StatusMsg == sim.State.StatusMsg, $"a timer changed status_msg {where}");
    }

    /// <summary>The wake-up is never late: a timer run at <c>now</c> or just before <paramref name="due"/> changes nothing.</summary>
    private static void AssertNothingDueBefore(PresenceSim sim, long due, StringBuilder log)
    {
        foreach (long at in new[] { sim.Now, due - 1 }.Where(t => t >= sim.Now && t < due).Distinct())
        {
            PresenceTransition early = PresenceOperations.HandleTimer(sim.Aggregate, at, sim.Timings);
            Assert.True(
                early.Current == sim.Aggregate && !early.Notify && !early.FederationPing,
                $"the timer due at {due - T0} changed something when run at {at - T0}: {Describe(sim.Aggregate)} -> {Describe(early.Current)}; {log}");
        }
    }

    private static void AssertInvariants(PresenceSim sim, ref long lastActive, StringBuilder log)
    {
        UserPresenceAggregate aggregate = sim.Aggregate;
        UserPresenceState state = aggregate.State;
        long now = sim.Now;
        string where = $"at {now - T0}: {Describe(aggregate)}; {log}";

        Assert.True(state.State == DevicePresence.Combine(aggregate.Devices), $"the shown state is not the best of the devices' {where}");
        Assert.True(state.LastActiveTs >= lastActive && state.LastActiveTs <= now, $"last_active moved back or ahead {where}");
        lastActive = state.LastActiveTs;

        JsonElement content = Content(state, now);
        bool shownActive = content.TryGetProperty("currently_active", out JsonElement active) && active.GetBoolean();
        Assert.True(!content.TryGetProperty("currently_active", out _) || state.State == PresenceState.Online, $"currently_active shown while not online {where}");
        Assert.True(!shownActive || now - state.LastActiveTs <= sim.Timings.LastActiveGranularityMs, $"currently_active shown past the granularity {where}");
    }

    private static JsonElement Content(UserPresenceState state, long now)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            state.WriteContent(writer, now);
        }

        return JsonDocument.Parse(buffer.ToArray()).RootElement.Clone();
    }

    private static string Describe(UserPresenceAggregate aggregate)
    {
        UserPresenceState s = aggregate.State;
        return $"{s.State} active={s.CurrentlyActive} last_active={s.LastActiveTs - T0} sync={s.LastUserSyncTs - T0} fed={s.LastFederationUpdateTs - T0} status={s.StatusMsg ?? "null"} devices=["
            + string.Join(", ", aggregate.Devices.Select(d => $"{d.DeviceId ?? "-"}:{d.State} active={d.LastActiveTs - T0} sync={d.LastSyncTs - T0} until={(d.SyncingUntil is { } u ? (u - T0).ToString(System.Globalization.CultureInfo.InvariantCulture) : "-")}"))
            + "]";
    }

    // ---- Generators ----

    private static readonly Gen<PresenceTimings> Timings =
        from granularity in Gen.Choose(1, 60)
        from sync in Gen.Choose(1, 60)
        from idle in Gen.Choose(granularity + 1, granularity + 120)
        from busy in Gen.Choose(1, 300)
        from ping in Gen.Choose(1, 400)
        from keepAlive in Gen.Choose(1, 200)
        select new PresenceTimings
        {
            LastActiveGranularity = TimeSpan.FromMilliseconds(granularity),
            SyncOnlineTimeout = TimeSpan.FromMilliseconds(sync),
            IdleTimeout = TimeSpan.FromMilliseconds(idle),
            BusyOnlineTimeout = TimeSpan.FromMilliseconds(busy),
            FederationPingInterval = TimeSpan.FromMilliseconds(ping),
            FederationTimeout = TimeSpan.FromMilliseconds(ping + 50),
            SyncKeepAliveExpiry = TimeSpan.FromMilliseconds(keepAlive),
        };

    private static Gen<Step[]> StepsFor(PresenceTimings timings)
    {
        long[] scales = [timings.LastActiveGranularityMs, timings.SyncOnlineTimeoutMs, timings.IdleTimeoutMs, timings.SyncKeepAliveExpiryMs, timings.FederationPingIntervalMs];
        Gen<long> wait = Gen.Frequency(
            (3, Gen.Choose(0, 3).Select(n => (long)n)),
            (3, Gen.Elements(scales).SelectMany(scale => Gen.Choose(-1, 1).Select(d => Math.Max(0, scale + d)))),
            (2, Gen.Elements(scales).SelectMany(scale => Gen.Choose(0, 100).Select(percent => scale * percent / 100))));
        Gen<string?> device = Gen.Elements(Devices);
        Gen<PresenceState> presence = Gen.Elements(States);
        Gen<Step> step = Gen.Frequency(
            (3, device.Zip(presence, (d, p) => (d, p)).Zip(Gen.Elements<string?>(null, "", "x", "y"), (dp, s) => new Step("set", dp.d, dp.p, s, 0))),
            (3, device.Zip(presence, (d, p) => new Step("start", d, p, null, 0))),
            (2, device.Select(d => new Step("keepalive", d, default, null, 0))),
            (2, device.Select(d => new Step("stop", d, default, null, 0))),
            (2, device.Select(d => new Step("bump", d, default, null, 0))),
            (6, wait.Select(ms => new Step("wait", null, default, null, ms))));
        return Gen.Choose(1, 40).SelectMany(n => step.ArrayOf(n));
    }

    private static readonly Gen<Scenario> Scenarios = Timings.SelectMany(t => StepsFor(t).Select(steps => new Scenario(t, steps)));

    /// <summary>Shrinks a failing run by dropping steps, so the report shows a short sequence.</summary>
    private static IEnumerable<Scenario> Shrink(Scenario scenario)
    {
        for (int i = 0; i < scenario.Steps.Length; i++)
        {
            yield return scenario with { Steps = [.. scenario.Steps[..i], .. scenario.Steps[(i + 1)..]] };
        }
    }
}
