namespace PresenceGrid.Testing;

/// <summary>Where the tests' fake clocks (<c>Microsoft.Extensions.Time.Testing.FakeTimeProvider</c>) start.</summary>
public static class TestClock
{
    /// <summary>2026-01-01T00:00:00Z: the scenario tests' timestamps count from it.</summary>
    public static DateTimeOffset Start { get; } = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
}
