using System.Net;
using PresenceGrid.Client;

namespace PresenceGrid.Silo.Tests;

public sealed class Http2Tests
{
    [Fact]
    public async Task H2cEndpoint_ServesHttp2WithPriorKnowledge_AndTheMainEndpointHttp11()
    {
        await using var silo = await RunningSilo.StartAsync(RunningSilo.DefaultConfig, "--h2c-urls", "http://127.0.0.1:0");
        Assert.Equal(2, silo.Addresses.Count);
        var h2c = new Uri(silo.Addresses[1]);
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(h2c, "/healthz"))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

        using HttpResponseMessage response = await http.SendAsync(request);
        using HttpResponseMessage http11 = await http.GetAsync(new Uri(silo.Address, "/healthz"));

        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version11, http11.Version);

        using var client = new PresenceGridClient(new PresenceGridClientOptions { Endpoints = { h2c }, Http2PriorKnowledge = true });
        await client.SetPresenceAsync("@h2:test", PresenceState.Online, "over h2c");
        Assert.Equal("over h2c", (await client.GetPresenceAsync("@h2:test", "@h2:test")).StatusMsg);
    }
}
