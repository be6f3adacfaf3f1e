using PresenceGrid.Client;
using PresenceGrid.Testing;

namespace PresenceGrid.Silo.Tests;

/// <summary>
/// The Orleans transport against a silo of a cluster (PostgreSQL membership, <c>cluster.secret</c>): the gateway takes
/// clients that present the secret, and refuses one without it.
/// </summary>
public sealed class OrleansGatewaySecretTests : IAsyncLifetime
{
    private const string Secret = "the gateway secret of the sdk tests";

    private PostgresServer? _postgres;
    private RunningSilo? _silo;

    public async Task InitializeAsync()
    {
        _postgres = await PostgresServer.StartAsync();
        _silo = await RunningSilo.StartAsync($"""
            server_name: test
            cluster:
              cluster_id: {_postgres.NewClusterId("sdk")}
              postgres: "{_postgres.ConnectionString}"
              secret: "{Secret}"
              silo_host: localhost
              silo_port: 0
              gateway_port: 0
            """);
    }

    public async Task DisposeAsync()
    {
        if (_silo is not null)
        {
            await _silo.DisposeAsync();
        }

        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
    }

    [Fact]
    public async Task ClientWithTheSecret_IsServed_AndOneWithoutIt_IsRefused()
    {
        await using (OrleansSdkClient connection = await OrleansSdkClient.ConnectAsync(_silo!, Secret))
        {
            await connection.Client.SetPresenceAsync("@s:test", PresenceState.Online, "through the gateway");
            Assert.Equal("through the gateway", (await connection.Client.GetPresenceAsync("@s:test", "@s:test")).StatusMsg);
            Assert.Equal("active", Assert.Single((await connection.Client.GetClusterAsync()).Silos).Status);
        }

        using Microsoft.Extensions.Hosting.IHost withoutSecret = OrleansSdkClient.Build(_silo!, secret: null, retry: false);
        Exception? refused = await Record.ExceptionAsync(() => withoutSecret.StartAsync().WaitAsync(TimeSpan.FromSeconds(30)));

        // The same client with the secret connected above: only the missing secret makes the gateway close the connection.
        Assert.IsType<Orleans.Runtime.Messaging.ConnectionFailedException>(refused);
    }
}
