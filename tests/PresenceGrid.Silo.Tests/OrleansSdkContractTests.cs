using PresenceGrid.Client;

namespace PresenceGrid.Silo.Tests;

/// <summary>The SDK's contract over Orleans (<c>OrleansPresenceGridClient</c> through the silo's gateway), plus the same errors as HTTP call by call.</summary>
public sealed class OrleansSdkContractTests : SdkContractTests
{
    private OrleansSdkClient? _connection;

    internal override async Task<IPresenceGridClient> ConnectAsync(RunningSilo silo)
    {
        _connection = await OrleansSdkClient.ConnectAsync(silo);
        return _connection.Client;
    }

    protected override async Task DisconnectAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
    }

    [Fact]
    public void TheHostsClient_IsTheOrleansTransport() =>
        Assert.IsType<PresenceGrid.Client.Orleans.OrleansPresenceGridClient>(Client);

    /// <summary>Each bad call answers the same exception type, status, errcode and message through both transports.</summary>
    [Fact]
    public async Task EveryError_IsTheSameAsOverHttp()
    {
        using var http = new PresenceGridClient(new PresenceGridClientOptions { Endpoints = { Silo.Address }, Token = "t0k" });
        await http.SetPresenceAsync("@o1:test", PresenceState.Online);
        await Client.SetPresenceAsync("@o2:test", PresenceState.Online);
        Func<IPresenceGridClient, string, Task>[] calls =
        [
            (c, who) => c.SetPresenceAsync(who, PresenceState.Unavailable),
            (c, _) => c.SetPresenceAsync("@o3:test", new PresenceState("away")),
            (c, _) => c.SetPresenceAsync("@o3:elsewhere", PresenceState.Online),
            (c, _) => c.SetPresenceAsync("@o3:test", PresenceState.Online, new string('x', 3000)),
            (c, who) => c.GetPresenceAsync(who, "@stranger:test"),
            (c, who) => c.GetPresenceAsync(who),
            (c, _) => c.GetPresenceAsync("nobody", "@o3:test"),
            (c, _) => c.StartSyncingAsync("@o3:test", "d", PresenceState.Busy),
            (c, _) => c.MarkActiveAsync("@o3:elsewhere", "d"),
            (c, _) => c.SyncAsync("not-a-user"),
            (c, _) => c.SetMembershipAsync("!r:test", "nobody", Membership.Join),
            (c, _) => c.SendFederationAsync("not a server!", []),
            (c, _) => c.TakeOutgoingAsync("not a server!"),
            (c, _) => c.SendLocalOnlinePresenceToAsync(["nobody"]),
            (c, _) => c.SetPresenceForUsersAsync(new Dictionary<string, UserPresenceUpdate> { ["@o3:test"] = new(new PresenceState("away")) }),
            (c, _) => c.SetPresenceForUsersAsync(new Dictionary<string, UserPresenceUpdate> { ["nobody"] = new(PresenceState.Online) }),
            (c, _) => c.ExplainAsync("@o3:test", "nobody"),
        ];

        for (int i = 0; i < calls.Length; i++)
        {
            var overHttp = await Record.ExceptionAsync(() => calls[i](http, "@o1:test"));
            var overOrleans = await Record.ExceptionAsync(() => calls[i](Client, "@o2:test"));
            Assert.True(overHttp is PresenceGridApiException, $"call {i} over HTTP: {overHttp}");
            Assert.True(overOrleans is PresenceGridApiException, $"call {i} over Orleans: {overOrleans}");

            Assert.Equal(
                (i, overHttp.GetType(), Describe(overHttp).Replace("@o1:", "@o2:", StringComparison.Ordinal)),
                (i, overOrleans.GetType(), Describe(overOrleans)));
        }
    }

    private static string Describe(Exception error) =>
        error is PresenceGridApiException api ? $"{(int?)api.StatusCode} {api.ErrCode} {api.Error} transient={api.IsTransient}" : error.ToString();
}
