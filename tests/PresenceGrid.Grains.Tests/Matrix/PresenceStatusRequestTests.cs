using System.Text.Json;
using PresenceGrid.Matrix;

namespace PresenceGrid.Presence.Tests;

public sealed class PresenceStatusRequestTests
{
    private static PresenceStatusRequest Parse(string json, bool busyEnabled = false)
    {
        using var doc = JsonDocument.Parse(json);
        return PresenceStatusRequest.Parse(doc.RootElement, busyEnabled);
    }

    private static MatrixValidationException Fails(string json, bool busyEnabled = false) =>
        Assert.Throws<MatrixValidationException>(() => Parse(json, busyEnabled));

    [Fact]
    public void PresenceOnly_StatusNull()
    {
        Assert.Equal(new PresenceStatusRequest(PresenceState.Online, null), Parse("""{"presence":"online"}"""));
    }

    [Fact]
    public void WithStatus()
    {
        Assert.Equal(new PresenceStatusRequest(PresenceState.Unavailable, "brb"), Parse("""{"status_msg":"brb","presence":"unavailable"}"""));
    }

    [Fact]
    public void StatusNull_Rejected()
    {
        var e = Fails("""{"presence":"online","status_msg":null}""");
        Assert.Equal("status_msg must be a string.", e.Message);
        Assert.Equal("status_msg", e.Field);
        Assert.Equal("M_UNKNOWN", e.ErrCode);
    }

    [Theory]
    [InlineData("""{"presence":"online","extra":1}""", "extra")]
    [InlineData("""{"status_msg":"x"}""", "presence")]
    [InlineData("""[]""", "")]
    public void Unparseable_Rejected(string json, string field)
    {
        var e = Fails(json);
        Assert.Equal("Unable to parse state", e.Message);
        Assert.Equal(field, e.Field);
    }

    [Theory]
    [InlineData("""{"presence":"org.matrix.msc3026.busy"}""")]
    [InlineData("""{"presence":"away"}""")]
    [InlineData("""{"presence":5}""")]
    public void InvalidPresence_Rejected(string json)
    {
        var e = Fails(json);
        Assert.Equal("Invalid presence state", e.Message);
        Assert.Equal("presence", e.Field);
    }

    [Fact]
    public void Busy_AcceptedWhenEnabled()
    {
        Assert.Equal(PresenceState.Busy, Parse("""{"presence":"org.matrix.msc3026.busy"}""", busyEnabled: true).Presence);
    }

    [Fact]
    public void StatusLengthLimit_2048Utf8Bytes()
    {
        var ok = new string('€', 682) + "xx";
        Assert.Equal(2048, System.Text.Encoding.UTF8.GetByteCount(ok));
        Assert.Equal(ok, Parse($$"""{"presence":"online","status_msg":"{{ok}}"}""").StatusMsg);

        var e = Fails($$"""{"presence":"online","status_msg":"{{ok}}x"}""");
        Assert.Equal("status_msg", e.Field);
        Assert.Equal("M_INVALID_PARAM", e.ErrCode);
    }
}
