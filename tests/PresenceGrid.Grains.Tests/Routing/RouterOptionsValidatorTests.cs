using PresenceGrid.Modules;

namespace PresenceGrid.Routing.Tests;

public sealed class RouterOptionsValidatorTests
{
    [Fact]
    public void Default_IsOneSecond_AndValid()
    {
        var options = new RouterOptions();

        Assert.Equal(TimeSpan.FromSeconds(1), options.ModuleCallbackTimeout);
        Assert.True(new RouterOptionsValidator().Validate(null, options).Succeeded);
        Assert.True(new RouterOptionsValidator().Validate(null, new RouterOptions { ModuleCallbackTimeout = Timeout.InfiniteTimeSpan }).Succeeded);
    }

    [Fact]
    public void ZeroTimeout_FailsNamingTheField()
    {
        var result = new RouterOptionsValidator().Validate(null, new RouterOptions { ModuleCallbackTimeout = TimeSpan.Zero });

        Assert.True(result.Failed);
        Assert.Contains("RouterOptions.ModuleCallbackTimeout", result.FailureMessage, StringComparison.Ordinal);
    }
}
