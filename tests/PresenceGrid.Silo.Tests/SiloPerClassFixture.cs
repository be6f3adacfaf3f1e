namespace PresenceGrid.Silo.Tests;

/// <summary>One <see cref="RunningSilo"/> (the default test config) shared by the tests of a class.</summary>
public sealed class SiloPerClassFixture : IAsyncLifetime
{
    private RunningSilo? _silo;

    internal RunningSilo Silo => _silo ?? throw new InvalidOperationException("The silo has not started.");

    /// <inheritdoc />
    public async Task InitializeAsync() => _silo = await RunningSilo.StartAsync();

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_silo is not null)
        {
            await _silo.DisposeAsync();
        }
    }
}
