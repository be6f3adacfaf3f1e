using System.Net;
using PresenceGrid.Cli;
using PresenceGrid.Client;
using PresenceGrid.Testing;

namespace PresenceGrid.Silo.Tests;

/// <summary>pgrid's accounting and retry logic on its own: no silo, no console, a manual clock.</summary>
public sealed class PgridLogicTests
{
    private static readonly long Sent = new DateTime(2026, 1, 1, 12, 0, 0, DateTimeKind.Utc).Ticks;

    private static PresenceContent Content(PresenceState shown, string? status) => new(shown, StatusMsg: status);

    [Fact]
    public void LoadChanges_TimesAChangeOnce_AtItsFirstDeliveryInTheStateSent()
    {
        var changes = new LoadChanges();
        string status = LoadChanges.StatusFor(Sent, PresenceState.Online);

        LoadDelivery first = changes.Classify("@u:test", Content(PresenceState.Online, status), out long sentTicks);
        // 30 s later the silo delivers the same state again (say, a resync), then its timer takes the user offline:
        // the same status message, the old stamp. Neither is a 30 s delivery.
        LoadDelivery again = changes.Classify("@u:test", Content(PresenceState.Online, status), out _);
        LoadDelivery offline = changes.Classify("@u:test", Content(PresenceState.Offline, status), out _);
        // Another watcher's room mate with the same stamp, and the user's next change, are timed.
        LoadDelivery otherSender = changes.Classify("@v:test", Content(PresenceState.Online, status), out _);
        LoadDelivery next = changes.Classify("@u:test", Content(PresenceState.Unavailable, LoadChanges.StatusFor(Sent + 1, PresenceState.Unavailable)), out long nextTicks);

        Assert.Equal(LoadDelivery.First, first);
        Assert.Equal(Sent, sentTicks);
        Assert.Equal(LoadDelivery.Repeat, again);
        Assert.Equal(LoadDelivery.TimerTransition, offline);
        Assert.Equal(LoadDelivery.First, otherSender);
        Assert.Equal(LoadDelivery.First, next);
        Assert.Equal(Sent + 1, nextTicks);
    }

    [Fact]
    public void LoadChanges_AStateFirstSeenAfterATimerMovedTheUser_IsATransition_NotADelivery()
    {
        var changes = new LoadChanges();

        // The watcher (re)connects after the user went from unavailable to offline: it never saw the state sent.
        LoadDelivery delivery = changes.Classify("@u:test", Content(PresenceState.Offline, LoadChanges.StatusFor(Sent, PresenceState.Unavailable)), out _);

        Assert.Equal(LoadDelivery.TimerTransition, delivery);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("hello")]
    [InlineData("load:")]
    [InlineData("load:123")]
    [InlineData("load:12x:online")]
    [InlineData("load:123:")]
    public void LoadChanges_IgnoresEventsItDidNotSend(string? status)
    {
        Assert.Equal(LoadDelivery.NotLoad, new LoadChanges().Classify("@u:test", Content(PresenceState.Online, status), out _));
    }

    [Fact]
    public void LoadFailures_CountsByErrCode_WithTheFirstErrorOfEach()
    {
        var failures = new LoadFailures();
        failures.Add(new PresenceGridApiException(HttpStatusCode.BadRequest, "M_INVALID_PARAM", "@a:example.org is not a local user"));
        failures.Add(new PresenceGridApiException(HttpStatusCode.BadRequest, "M_INVALID_PARAM", "@b:example.org is not a local user"));
        failures.Add(new PresenceGridApiException(HttpStatusCode.Unauthorized, "M_MISSING_TOKEN", "a bearer token is required"));

        Assert.Equal(3, failures.Count);
        Assert.Equal(
            ["  M_INVALID_PARAM × 2, the first: @a:example.org is not a local user", "  M_MISSING_TOKEN × 1, the first: a bearer token is required"],
            failures.Describe());
        failures.Clear();
        Assert.Equal(0, failures.Count);
    }

    [Theory]
    [InlineData(0, 0, false)]
    [InlineData(50, 100, false)]
    [InlineData(51, 100, true)]
    [InlineData(96, 100, true)]
    public void LoadFailures_HintsAtRcPresence_WhenMostUpdatesAreRateLimited(long limited, long attempts, bool hint)
    {
        string? text = LoadFailures.RateLimitHint(limited, attempts);

        Assert.Equal(hint, text is not null);
        if (hint)
        {
            Assert.Contains("rc_presence.per_second: 0", text, StringComparison.Ordinal);
        }
    }

    private static PresenceGridUnavailableException Unreachable() =>
        new("Watch failed on all 1 endpoints", [new HttpRequestException("Connection refused (127.0.0.1:1)")]);

    [Fact]
    public void WatchReconnects_SaysItRetries_AndGivesUpOnceTheNextTryWouldPassTheLimit()
    {
        var clock = new FakeTimeProvider(TestClock.Start);
        using var output = new StringWriter();
        int stops = 0;
        var reconnects = new WatchReconnects(clock, TimeSpan.FromSeconds(1), output, () => stops++);

        reconnects.Reconnecting("no endpoint reachable", TimeSpan.FromMilliseconds(250), Unreachable());
        clock.Advance(TimeSpan.FromMilliseconds(250));
        reconnects.Reconnecting("no endpoint reachable", TimeSpan.FromMilliseconds(500), Unreachable());
        bool before = reconnects.GaveUp;
        clock.Advance(TimeSpan.FromMilliseconds(500));
        reconnects.Reconnecting("no endpoint reachable", TimeSpan.FromSeconds(1), Unreachable());

        Assert.False(before);
        Assert.True(reconnects.GaveUp);
        Assert.Equal(1, stops);
        string[] lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("watch: no silo reachable (Connection refused (127.0.0.1:1)); retrying in 0.25 s (backoff", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("watch: giving up after 0.75 s without a reachable silo (Connection refused (127.0.0.1:1))", lines[2], StringComparison.Ordinal);
    }

    [Fact]
    public void WatchReconnects_ABatchOrAConnectedStream_StartsTheCountAgain_AndForeverNeverGivesUp()
    {
        var clock = new FakeTimeProvider(TestClock.Start);
        int stops = 0;
        var resetByBatches = new WatchReconnects(clock, TimeSpan.FromSeconds(1), TextWriter.Null, () => stops++);
        var resetByStreams = new WatchReconnects(clock, TimeSpan.FromSeconds(1), TextWriter.Null, () => stops++);
        var forever = new WatchReconnects(clock, null, TextWriter.Null, () => stops++);

        // Two failed tries 0.4 s apart, then a connection: without the reset, the third try would pass the limit.
        for (int i = 0; i < 5; i++)
        {
            for (int attempt = 0; attempt < 2; attempt++)
            {
                foreach (WatchReconnects reconnects in new[] { resetByBatches, resetByStreams, forever })
                {
                    reconnects.Reconnecting("no endpoint reachable", TimeSpan.FromMilliseconds(500), Unreachable());
                }

                clock.Advance(TimeSpan.FromMilliseconds(400));
            }

            resetByBatches.Received();
            resetByStreams.Reconnecting("stream ended", TimeSpan.FromMilliseconds(250), null);
        }

        Assert.False(resetByBatches.GaveUp);
        Assert.False(resetByStreams.GaveUp);
        Assert.False(forever.GaveUp);
        Assert.Equal(0, stops);
    }
}
