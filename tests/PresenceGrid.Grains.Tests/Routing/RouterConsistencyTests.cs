using PresenceGrid.Routing.Tests.Infrastructure;
using static PresenceGrid.Routing.Tests.Infrastructure.TestData;

namespace PresenceGrid.Routing.Tests;

public sealed class RouterConsistencyTests : IDisposable
{
    private readonly RouterHarness _h = new();

    public void Dispose() => _h.Dispose();

    [Fact]
    public async Task FlagsADeliberatelyInconsistentModule()
    {
        _h.Load(Config(("modules:0:module", "PresenceGrid.Routing.Tests.Infrastructure.InconsistentRouter, PresenceGrid.Grains.Tests")));
        var sample = new[] { U("@alice:example.org"), U("@bob:example.org"), U("@carol:example.org") };

        var mismatches = await RouterConsistency.FindMismatchesAsync(_h.Pipeline, sample, static u => S(u.ToString()));

        Assert.Equal(
            [
                new RouterMismatch(U("@bob:example.org"), U("@alice:example.org"), RouterMismatchKind.RoutedButNotInterested),
                new RouterMismatch(U("@bob:example.org"), U("@carol:example.org"), RouterMismatchKind.InterestedButNotRouted),
            ],
            mismatches);
    }

    [Fact]
    public async Task NoModules_NoMismatches()
    {
        var mismatches = await RouterConsistency.FindMismatchesAsync(_h.Pipeline, [U("@a:example.org"), U("@b:example.org")], static u => S(u.ToString()));

        Assert.Empty(mismatches);
    }
}
