using System.Net;
using PresenceGrid.Client.Tests.Infrastructure;

namespace PresenceGrid.Client.Tests;

/// <summary>Connection failures and timeouts move to the next endpoint; error answers do not.</summary>
public sealed class PresenceGridClientFailoverTests
{
    [Fact]
    public async Task ConnectionFailure_FailsOverToSecondEndpoint_AndNextCallStartsThere()
    {
        var handler = new FakeHttpHandler(r => r.Uri.Host == TestClients.EndpointA.Host
            ? throw FakeHttpHandler.ConnectionRefused(r.Uri)
            : FakeHttpHandler.Json("""{"status":"ok"}"""));
        using var client = TestClients.Create(handler);

        var first = await client.HealthAsync();
        var second = await client.HealthAsync();

        Assert.True(first.IsHealthy);
        Assert.True(second.IsHealthy);
        Assert.Equal(
            [TestClients.EndpointA.Host, TestClients.EndpointB.Host, TestClients.EndpointB.Host],
            handler.Requests.Select(r => r.Uri.Host));
    }

    [Fact]
    public async Task ConnectionFailure_ResendsSameBodyAndHeaders()
    {
        var handler = new FakeHttpHandler(r => r.Uri.Host == TestClients.EndpointA.Host
            ? throw FakeHttpHandler.ConnectionRefused(r.Uri)
            : FakeHttpHandler.Empty());
        using var client = TestClients.Create(handler, o => o.Token = "tok");

        await client.SetPresenceAsync("@a:hs", PresenceState.Online, "hi");

        Assert.Equal(2, handler.Requests.Count);
        Assert.Equal(handler.Requests[0].Body, handler.Requests[1].Body);
        Assert.Equal("/v1/presence/%40a%3Ahs/status", handler.Requests[1].PathAndQuery);
        Assert.Equal("tok", handler.Requests[1].Authorization?.Parameter);
    }

    [Fact]
    public async Task HttpErrorAnswer_DoesNotFailOver()
    {
        var handler = new FakeHttpHandler(_ => FakeHttpHandler.Json("""{"errcode":"M_INVALID_PARAM","error":"bad presence"}""", HttpStatusCode.BadRequest));
        using var client = TestClients.Create(handler);

        var ex = await Assert.ThrowsAsync<PresenceGridApiException>(() => client.SetPresenceAsync("@a:hs", PresenceState.Online));

        Assert.Equal(PresenceGridErrorCodes.InvalidParam, ex.ErrCode);
        Assert.Equal(TestClients.EndpointA.Host, Assert.Single(handler.Requests).Uri.Host);
    }

    [Fact]
    public async Task ServerErrorAnswer_DoesNotFailOver()
    {
        var handler = new FakeHttpHandler(_ => FakeHttpHandler.Json("""{"errcode":"M_UNKNOWN","error":"boom"}""", HttpStatusCode.ServiceUnavailable));
        using var client = TestClients.Create(handler);

        await Assert.ThrowsAsync<PresenceGridApiException>(() => client.HealthAsync());

        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task AllEndpointsFail_ThrowsUnavailable_WithOneInnerExceptionPerEndpoint()
    {
        var handler = new FakeHttpHandler(r => throw FakeHttpHandler.ConnectionRefused(r.Uri));
        using var client = TestClients.Create(handler);

        var ex = await Assert.ThrowsAsync<PresenceGridUnavailableException>(() => client.HealthAsync());

        Assert.Null(ex.StatusCode);
        Assert.Equal(PresenceGridErrorCodes.Unavailable, ex.ErrCode);
        Assert.True(ex.IsTransient);
        Assert.Equal(2, ex.InnerExceptions.Count);
        Assert.All(ex.InnerExceptions, e => Assert.IsType<HttpRequestException>(e));
        Assert.Contains("silo-a.test", ex.InnerExceptions[0].Message, StringComparison.Ordinal);
        Assert.Contains("silo-b.test", ex.InnerExceptions[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AttemptTimeout_FailsOverToSecondEndpoint()
    {
        var time = new ManualTimeProvider();
        var handler = new FakeHttpHandler(async (r, ct) =>
        {
            if (r.Uri.Host == TestClients.EndpointA.Host)
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, ct); // a silo that accepted the connection and hangs
            }

            return FakeHttpHandler.Json("""{"status":"ok"}""");
        });
        using var client = TestClients.Create(handler, o => o.RequestTimeout = TimeSpan.FromSeconds(3), time);

        var call = client.HealthAsync();
        await time.WaitForTimerAsync(TimeSpan.FromSeconds(3)).WaitAsync(TimeSpan.FromSeconds(10));
        time.Advance(TimeSpan.FromSeconds(3));
        var health = await call.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(health.IsHealthy);
        Assert.Equal([TestClients.EndpointA.Host, TestClients.EndpointB.Host], handler.Requests.Select(r => r.Uri.Host));
    }

    [Fact]
    public async Task SyncLongPoll_AddsPollTimeoutToAttemptTimeout()
    {
        var time = new ManualTimeProvider();
        var handler = new FakeHttpHandler(_ => FakeHttpHandler.Json("""{"events":[],"next_batch":"n"}"""));
        using var client = TestClients.Create(handler, o => o.RequestTimeout = TimeSpan.FromSeconds(10), time);

        await client.SyncAsync("@a:hs", timeout: TimeSpan.FromSeconds(30));

        Assert.Equal([TimeSpan.FromSeconds(40)], time.ScheduledDueTimes);
    }

    [Fact]
    public async Task CallerCancellation_DoesNotFailOver()
    {
        using var cts = new CancellationTokenSource();
        var handler = new FakeHttpHandler(async (_, ct) =>
        {
            await cts.CancelAsync();
            ct.ThrowIfCancellationRequested();
            return FakeHttpHandler.Empty();
        });
        using var client = TestClients.Create(handler);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.MarkActiveAsync("@a:hs", "D", cts.Token));

        Assert.Single(handler.Requests);
    }
}
