using System.Buffers;
using System.Text;
using System.Text.Json;
using PresenceGrid.Matrix;
using static PresenceGrid.Presence.Tests.TestIds;

namespace PresenceGrid.Presence.Tests;

public sealed class WireFormatTests
{
    private static string Content(UserPresenceState state, long now, bool includeUserId = false) =>
        Encoding.UTF8.GetString(state.ToContentUtf8(now, includeUserId));

    [Fact]
    public void Online_LastActiveAgoComputedAtSerialisationTime()
    {
        var state = UserPresenceState.Default(Foo) with { State = PresenceState.Online, LastActiveTs = Now - 1_500, CurrentlyActive = true };

        Assert.Equal("""{"presence":"online","last_active_ago":1500,"currently_active":true}""", Content(state, Now));
        Assert.Equal("""{"presence":"online","last_active_ago":61500,"currently_active":true}""", Content(state, Now + 60_000));
    }

    [Fact]
    public void Offline_NoLastActive_EmptyStatus_OnlyPresence()
    {
        var state = UserPresenceState.Default(Foo) with { StatusMsg = "", CurrentlyActive = true };
        Assert.Equal("""{"presence":"offline"}""", Content(state, Now));
    }

    [Fact]
    public void Federation_IncludesUserId_StatusWhenSet_NoCurrentlyActiveWhenNotOnline()
    {
        var state = UserPresenceState.Default(Foo) with
        {
            State = PresenceState.Unavailable,
            LastActiveTs = Now - 10,
            StatusMsg = "gone \"fishing\"",
            CurrentlyActive = true,
        };

        Assert.Equal(
            """{"presence":"unavailable","user_id":"@foo:bar","last_active_ago":10,"status_msg":"gone \u0022fishing\u0022"}""",
            Content(state, Now, includeUserId: true));
    }

    [Fact]
    public void Busy_UsesUnstableString_NoCurrentlyActive()
    {
        var state = UserPresenceState.Default(Foo) with { State = PresenceState.Busy, LastActiveTs = Now, CurrentlyActive = true };
        Assert.Equal("""{"presence":"org.matrix.msc3026.busy","last_active_ago":0}""", Content(state, Now));
    }

    [Fact]
    public void Online_NotCurrentlyActive_SerialisesFalse()
    {
        var state = UserPresenceState.Default(Foo) with { State = PresenceState.Online };
        Assert.Equal("""{"presence":"online","currently_active":false}""", Content(state, Now));
    }

    [Fact]
    public void SyncEvent_WrapsContent()
    {
        var state = UserPresenceState.Default(Foo) with { State = PresenceState.Online, LastActiveTs = Now - 5, StatusMsg = "hi", CurrentlyActive = true };
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            state.WriteSyncEvent(writer, Now);
        }

        Assert.Equal(
            """{"type":"m.presence","sender":"@foo:bar","content":{"presence":"online","last_active_ago":5,"status_msg":"hi","currently_active":true}}""",
            Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    [Fact]
    public void Default_IsOfflineZeroes()
    {
        Assert.Equal(new UserPresenceState(Foo, PresenceState.Offline, 0, 0, 0, null, false), UserPresenceState.Default(Foo));
        Assert.NotEqual(UserPresenceState.Default(Foo), UserPresenceState.Default(Foo) with { LastUserSyncTs = 1 });
    }

    [Fact]
    public void RoundTrip_ThroughFederationParser()
    {
        var state = UserPresenceState.Default(Foo) with { State = PresenceState.Online, LastActiveTs = Now - 700, StatusMsg = "s", CurrentlyActive = true };
        using var doc = JsonDocument.Parse(state.ToContentUtf8(Now, includeUserId: true));

        var update = FederationPresenceUpdate.Parse(doc.RootElement);

        Assert.Equal(new FederationPresenceUpdate(Foo, PresenceState.Online, 700, "s", true), update);
    }
}
