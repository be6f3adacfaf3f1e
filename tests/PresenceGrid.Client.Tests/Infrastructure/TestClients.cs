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
        var options = new PresenceGridClientOptions { Endpoints = [EndpointA, EndpointB] };
        configure?.Invoke(options);
        var httpClient = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        return new PresenceGridClient(httpClient, options, timeProvider);
    }
}
