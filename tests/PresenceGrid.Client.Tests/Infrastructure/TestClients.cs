namespace PresenceGrid.Client.Tests.Infrastructure;

internal static class TestClients
{
    public static readonly Uri EndpointA = new("http://silo-a.test:8080/");
    public static readonly Uri EndpointB = new("http://silo-b.test:8080/");

    public static PresenceGridClient Create(
        FakeHttpHandler handler,
        Action<PresenceGridClientOptions>? configure = null,
        TimeProvider? timeProvider = null)
    {
        // Owner routing (on by default with two endpoints) is off unless a test turns it on: the other tests pin the
        // configured failover order and count every request, and a placement fetch would be one more.
        var options = new PresenceGridClientOptions { Endpoints = [EndpointA, EndpointB], RouteToOwner = false };
        configure?.Invoke(options);
        var httpClient = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        return new PresenceGridClient(httpClient, options, timeProvider);
    }
}
