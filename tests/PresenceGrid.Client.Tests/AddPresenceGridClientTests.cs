using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PresenceGrid.Client.Tests.Infrastructure;

namespace PresenceGrid.Client.Tests;

/// <summary>DI registration and options validation.</summary>
public sealed class AddPresenceGridClientTests
{
    [Fact]
    public async Task AddPresenceGridClient_ResolvesSingletonClient_OverTheNamedHttpClient()
    {
        var handler = new FakeHttpHandler(_ => FakeHttpHandler.Json("""{"status":"ok"}"""));
        var services = new ServiceCollection();
        services.AddPresenceGridClient(o =>
            {
                o.Endpoints.Add(new Uri("http://silo.test:8080"));
                o.Token = "tok";
            })
            .ConfigurePrimaryHttpMessageHandler(() => handler);
        await using var provider = services.BuildServiceProvider(validateScopes: true);
        provider.GetRequiredService<IStartupValidator>().Validate();

        var client = provider.GetRequiredService<PresenceGridClient>();
        var health = await client.HealthAsync();

        Assert.Same(client, provider.GetRequiredService<PresenceGridClient>());
        Assert.Same(client, provider.GetRequiredService<IPresenceGridClient>());
        Assert.True(health.IsHealthy);
        Assert.Equal([new Uri("http://silo.test:8080/")], client.Endpoints);
        var request = Assert.Single(handler.Requests);
        Assert.Equal("http://silo.test:8080/healthz", request.Uri.AbsoluteUri);
        Assert.Equal("tok", request.Authorization?.Parameter);
    }

    [Fact]
    public void AddPresenceGridClient_DefaultHandler_IsSocketsHttpHandlerRecyclingConnections()
    {
        var services = new ServiceCollection();
        services.AddPresenceGridClient(o => o.Endpoints.Add(new Uri("http://silo.test/")));
        using var provider = services.BuildServiceProvider();

        using var handler = provider.GetRequiredService<IHttpMessageHandlerFactory>()
            .CreateHandler(PresenceGridClientServiceCollectionExtensions.HttpClientName);

        var primary = handler;
        while (primary is DelegatingHandler delegating)
        {
            primary = delegating.InnerHandler!;
        }

        var sockets = Assert.IsType<SocketsHttpHandler>(primary);
        Assert.Equal(TimeSpan.FromMinutes(2), sockets.PooledConnectionLifetime);
        Assert.Equal(TimeSpan.FromSeconds(5), sockets.ConnectTimeout);
    }

    [Fact]
    public void AddPresenceGridClient_WithoutEndpoints_FailsStartupValidation_NamingTheField()
    {
        var services = new ServiceCollection();
        services.AddPresenceGridClient(o => o.Token = "tok");
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("PresenceGridClientOptions.Endpoints must contain at least one absolute http(s) URI.", ex.Failures);
    }

    [Fact]
    public void AddPresenceGridClient_ReportsEveryBadField()
    {
        var services = new ServiceCollection();
        services.AddPresenceGridClient(o =>
        {
            o.Endpoints.Add(new Uri("ftp://silo.test/"));
            o.Token = "has space";
            o.RequestTimeout = TimeSpan.Zero;
        });
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Equal(3, ex.Failures.Count());
        Assert.Contains(ex.Failures, f => f.StartsWith("PresenceGridClientOptions.Endpoints[0]", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.StartsWith("PresenceGridClientOptions.Token", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.StartsWith("PresenceGridClientOptions.RequestTimeout", StringComparison.Ordinal));
    }

    [Fact]
    public void Constructor_WithInvalidOptions_ThrowsArgumentException_NamingTheField()
    {
        var ex = Assert.Throws<ArgumentException>(() => new PresenceGridClient(new PresenceGridClientOptions()));

        Assert.Equal("options", ex.ParamName);
        Assert.Contains("PresenceGridClientOptions.Endpoints must contain at least one absolute http(s) URI.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_CopiesOptions()
    {
        var options = new PresenceGridClientOptions { Endpoints = [new Uri("http://a.test/")] };
        using var client = new PresenceGridClient(options);

        options.Endpoints.Add(new Uri("http://b.test/"));

        Assert.Equal([new Uri("http://a.test/")], client.Endpoints);
    }

    [Fact]
    public async Task Dispose_ThenCall_ThrowsObjectDisposed()
    {
        var client = new PresenceGridClient(new PresenceGridClientOptions { Endpoints = [new Uri("http://a.test/")] });
        client.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => client.HealthAsync());
    }
}
