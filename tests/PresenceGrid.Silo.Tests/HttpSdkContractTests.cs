using System.Net;
using System.Net.Sockets;
using PresenceGrid.Client;

namespace PresenceGrid.Silo.Tests;

/// <summary>The SDK's contract over HTTP (<see cref="PresenceGridClient"/>), plus what only HTTP has: tokens and endpoint failover.</summary>
public sealed class HttpSdkContractTests : SdkContractTests
{
    private PresenceGridClient? _client;

    internal override Task<IPresenceGridClient> ConnectAsync(RunningSilo silo)
    {
        _client = new PresenceGridClient(new PresenceGridClientOptions { Endpoints = { silo.Address }, Token = "t0k" });
        return Task.FromResult<IPresenceGridClient>(_client);
    }

    protected override Task DisconnectAsync()
    {
        _client?.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task WrongToken_Is401_WithErrcode()
    {
        using var client = new PresenceGridClient(new PresenceGridClientOptions { Endpoints = { Silo.Address }, Token = "nope" });

        var error = await Assert.ThrowsAsync<PresenceGridApiException>(() => client.SetPresenceAsync("@d:test", PresenceState.Online));

        Assert.Equal(("M_UNKNOWN_TOKEN", (int?)401), (error.ErrCode, (int?)error.StatusCode));
    }

    [Fact]
    public async Task Failover_FromADeadEndpoint_ToTheSilo()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int deadPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var client = new PresenceGridClient(new PresenceGridClientOptions
        {
            Endpoints = { new Uri($"http://127.0.0.1:{deadPort}"), Silo.Address },
            Token = "t0k",
        });

        Assert.Equal("ok", (await client.HealthAsync()).Status);
    }
}
