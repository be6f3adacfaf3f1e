using PresenceGrid.Matrix;

namespace PresenceGrid.Presence.Tests;

internal static class TestIds
{
    public static readonly UserId Foo = UserId.Parse("@foo:bar");

    public static readonly UserId Remote = UserId.Parse("@alice:remote.example");

    /// <summary>Synapse's handler tests use now = 5 000 000 ms.</summary>
    public const long Now = 5_000_000;

    /// <summary>A realistic epoch for simulations.</summary>
    public const long T0 = 1_760_000_000_000;

    public static readonly PresenceTimings Timings = new();
}
