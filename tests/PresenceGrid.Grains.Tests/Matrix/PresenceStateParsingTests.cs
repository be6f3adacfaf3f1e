using PresenceGrid.Matrix;

namespace PresenceGrid.Presence.Tests;

public sealed class PresenceStateParsingTests
{
    [Theory]
    [InlineData(PresenceState.Online, "online")]
    [InlineData(PresenceState.Unavailable, "unavailable")]
    [InlineData(PresenceState.Offline, "offline")]
    [InlineData(PresenceState.Busy, "org.matrix.msc3026.busy")]
    public void WireStrings_RoundTrip(PresenceState state, string wire)
    {
        Assert.Equal(wire, PresenceStates.ToWireString(state));
        Assert.True(PresenceStates.TryParse(wire, busyEnabled: true, out var parsed));
        Assert.Equal(state, parsed);
    }

    [Fact]
    public void Busy_RejectedWhenDisabled()
    {
        Assert.False(PresenceStates.TryParse("org.matrix.msc3026.busy", busyEnabled: false, out _));
        Assert.True(PresenceStates.TryParse("online", busyEnabled: false, out var online));
        Assert.Equal(PresenceState.Online, online);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Online")]
    [InlineData("busy")]
    [InlineData(" online")]
    [InlineData("away")]
    public void Unknown_Rejected(string? value)
    {
        Assert.False(PresenceStates.TryParse(value, busyEnabled: true, out _));
    }

    [Fact]
    public void SetPresence_NeverAcceptsBusy()
    {
        Assert.False(PresenceStates.TryParseSetPresence("org.matrix.msc3026.busy", out _));
        Assert.True(PresenceStates.TryParseSetPresence("unavailable", out var s));
        Assert.Equal(PresenceState.Unavailable, s);
    }

    [Fact]
    public void ToWireString_UndefinedValue_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PresenceStates.ToWireString((PresenceState)42));
    }
}
