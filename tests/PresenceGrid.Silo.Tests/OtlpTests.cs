using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace PresenceGrid.Silo.Tests;

public sealed class OtlpTests
{
    [Fact]
    public async Task MetricsArePushedOverOtlp_WhenAnEndpointIsConfigured()
    {
        var received = new System.Collections.Concurrent.ConcurrentQueue<(string Path, string? ContentType, long Length)>();
        WebApplicationBuilder receiverBuilder = WebApplication.CreateSlimBuilder();
        receiverBuilder.WebHost.UseUrls("http://127.0.0.1:0");
        await using WebApplication receiver = receiverBuilder.Build();
        receiver.MapPost("/v1/metrics", (RequestDelegate)(async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            received.Enqueue((context.Request.Path, context.Request.ContentType, body.Length));
        }));
        await receiver.StartAsync();
        string collector = receiver.Urls.First();

        await using var silo = await RunningSilo.StartAsync($"""
            server_name: test
            metrics:
              otlp_endpoint: "{collector}/"
              otlp_interval: 200
            """);
        await silo.SendAsync(HttpMethod.Put, $"/v1/presence/{Uri.EscapeDataString("@o:test")}/status", """{"presence":"online"}""");

        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (received.IsEmpty && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.True(received.TryPeek(out var first), "no OTLP export arrived within 15 s");
        Assert.Equal("/v1/metrics", first.Path);
        Assert.Equal("application/x-protobuf", first.ContentType);
        Assert.True(first.Length > 0);
    }
}
