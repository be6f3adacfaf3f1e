using System.Text.Json;
using PresenceGrid.Matrix;
using static PresenceGrid.Presence.Tests.TestIds;

namespace PresenceGrid.Presence.Tests;

public sealed class FederationPresenceUpdateTests
{
    private static FederationPresenceUpdate Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return FederationPresenceUpdate.Parse(doc.RootElement);
    }

    private static MatrixValidationException Fails(string json)
    {
        using var doc = JsonDocument.Parse(json);
        Assert.False(FederationPresenceUpdate.TryParse(doc.RootElement, out var update, out var error));
        Assert.Null(update);
        return error;
    }

    [Fact]
    public void FullItem_Parsed()
    {
        var update = Parse("""{"user_id":"@alice:remote.example","presence":"online","last_active_ago":1234,"status_msg":"hi","currently_active":true,"extra":1}""");
        Assert.Equal(new FederationPresenceUpdate(Remote, PresenceState.Online, 1234, "hi", true), update);
    }

    [Fact]
    public void MinimalItem_DefaultsAndNullsCountAsAbsent()
    {
        Assert.Equal(
            new FederationPresenceUpdate(Remote, PresenceState.Unavailable, null, null, false),
            Parse("""{"user_id":"@alice:remote.example","presence":"unavailable"}"""));
        Assert.Equal(
            new FederationPresenceUpdate(Remote, PresenceState.Offline, null, null, false),
            Parse("""{"user_id":"@alice:remote.example","presence":"offline","last_active_ago":null,"status_msg":null,"currently_active":null}"""));
    }

    [Fact]
    public void Busy_AcceptedFromFederation()
    {
        Assert.Equal(PresenceState.Busy, Parse("""{"user_id":"@alice:remote.example","presence":"org.matrix.msc3026.busy"}""").State);
    }

    [Theory]
    [InlineData("""{"presence":"online"}""", "user_id", "M_MISSING_PARAM")]
    [InlineData("""{"user_id":5,"presence":"online"}""", "user_id", "M_BAD_JSON")]
    [InlineData("""{"user_id":"alice","presence":"online"}""", "user_id", "M_INVALID_PARAM")]
    [InlineData("""{"user_id":"@alice:remote.example"}""", "presence", "M_MISSING_PARAM")]
    [InlineData("""{"user_id":"@alice:remote.example","presence":""}""", "presence", "M_MISSING_PARAM")]
    [InlineData("""{"user_id":"@alice:remote.example","presence":1}""", "presence", "M_BAD_JSON")]
    [InlineData("""{"user_id":"@alice:remote.example","presence":"dnd"}""", "presence", "M_INVALID_PARAM")]
    [InlineData("""{"user_id":"@alice:remote.example","presence":"online","last_active_ago":"10"}""", "last_active_ago", "M_BAD_JSON")]
    [InlineData("""{"user_id":"@alice:remote.example","presence":"online","last_active_ago":1.5}""", "last_active_ago", "M_BAD_JSON")]
    [InlineData("""{"user_id":"@alice:remote.example","presence":"online","last_active_ago":-1}""", "last_active_ago", "M_INVALID_PARAM")]
    [InlineData("""{"user_id":"@alice:remote.example","presence":"online","status_msg":5}""", "status_msg", "M_BAD_JSON")]
    [InlineData("""{"user_id":"@alice:remote.example","presence":"online","status_msg":["x"]}""", "status_msg", "M_BAD_JSON")]
    [InlineData("""{"user_id":"@alice:remote.example","presence":"online","currently_active":"yes"}""", "currently_active", "M_BAD_JSON")]
    [InlineData("""{"user_id":"@alice:remote.example","presence":"online","currently_active":1}""", "currently_active", "M_BAD_JSON")]
    [InlineData("""["not","an","object"]""", "push", "M_BAD_JSON")]
    public void BadItem_NamesTheField(string json, string field, string errCode)
    {
        var error = Fails(json);
        Assert.Equal(field, error.Field);
        Assert.Equal(errCode, error.ErrCode);
        Assert.Contains(field, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void X1_IncomingEdu_OriginMismatch_Ignored()
    {
        var update = Parse("""{"user_id":"@alice:remote.example","presence":"online"}""");

        Assert.True(update.IsFrom(ServerName.Parse("remote.example")));
        Assert.False(update.IsFrom(ServerName.Parse("evil.example")));
        Assert.False(update.IsFrom(ServerName.Parse("remote.example:8448")));
    }

    [Fact]
    public void X1_IncomingEdu_NoLastActiveAgo_KeepsPreviousLastActive_NoStatusClears()
    {
        var previous = UserPresenceState.Default(Remote) with
        {
            State = PresenceState.Online,
            LastActiveTs = Now - 90_000,
            LastFederationUpdateTs = Now - 100_000,
            LastUserSyncTs = 77,
            StatusMsg = "old status",
            CurrentlyActive = true,
        };

        var next = Parse("""{"user_id":"@alice:remote.example","presence":"unavailable"}""").ApplyTo(previous, Now);

        Assert.Equal(
            previous with
            {
                State = PresenceState.Unavailable,
                LastFederationUpdateTs = Now,
                StatusMsg = null,
                CurrentlyActive = false,
            },
            next);
    }

    [Fact]
    public void X1_IncomingEdu_LastActiveAgo_SetsLastActiveRelativeToReceipt()
    {
        var next = Parse("""{"user_id":"@alice:remote.example","presence":"online","last_active_ago":2500,"currently_active":true}""")
            .ApplyTo(UserPresenceState.Default(Remote), Now);

        Assert.Equal(Now - 2_500, next.LastActiveTs);
        Assert.True(next.CurrentlyActive);
    }
}
