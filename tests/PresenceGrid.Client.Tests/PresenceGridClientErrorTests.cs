using System.Net;
using PresenceGrid.Client.Tests.Infrastructure;

namespace PresenceGrid.Client.Tests;

/// <summary>Error answers become typed exceptions carrying status, errcode and error.</summary>
public sealed class PresenceGridClientErrorTests
{
    [Theory]
    [InlineData(400, "M_INVALID_PARAM")]
    [InlineData(400, "M_BAD_JSON")]
    [InlineData(400, "M_NOT_JSON")]
    [InlineData(401, "M_UNKNOWN_TOKEN")]
    [InlineData(401, "M_MISSING_TOKEN")]
    [InlineData(404, "M_NOT_FOUND")]
    [InlineData(413, "M_TOO_LARGE")]
    public async Task ErrorAnswer_ThrowsPresenceGridException_WithErrCode(int status, string errCode)
    {
        var handler = new FakeHttpHandler(_ => FakeHttpHandler.Json($$"""{"errcode":"{{errCode}}","error":"details"}""", (HttpStatusCode)status));
        using var client = TestClients.Create(handler);

        var ex = await Assert.ThrowsAsync<PresenceGridApiException>(() => client.SetPresenceAsync("@a:hs", PresenceState.Online));

        Assert.Equal((HttpStatusCode)status, ex.StatusCode);
        Assert.Equal(errCode, ex.ErrCode);
        Assert.Equal("details", ex.Error);
        Assert.False(ex.IsTransient);
        Assert.Contains(errCode, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Forbidden_ThrowsForbiddenException()
    {
        var handler = new FakeHttpHandler(_ => FakeHttpHandler.Json("""{"errcode":"M_FORBIDDEN","error":"not an admin"}""", HttpStatusCode.Forbidden));
        using var client = TestClients.Create(handler);

        var ex = await Assert.ThrowsAsync<PresenceGridForbiddenException>(() => client.GetClusterAsync());

        Assert.Equal(HttpStatusCode.Forbidden, ex.StatusCode);
        Assert.Equal(PresenceGridErrorCodes.Forbidden, ex.ErrCode);
        Assert.Equal("not an admin", ex.Error);
    }

    [Fact]
    public async Task RateLimited_ThrowsRateLimitedException_WithRetryAfterFromBody()
    {
        var handler = new FakeHttpHandler(_ => FakeHttpHandler.Json(
            """{"errcode":"M_LIMIT_EXCEEDED","error":"slow down","retry_after_ms":1500}""", HttpStatusCode.TooManyRequests));
        using var client = TestClients.Create(handler);

        var ex = await Assert.ThrowsAsync<PresenceGridRateLimitedException>(() => client.SetPresenceAsync("@a:hs", PresenceState.Online));

        Assert.Equal(TimeSpan.FromMilliseconds(1500), ex.RetryAfter);
        Assert.Equal(PresenceGridErrorCodes.LimitExceeded, ex.ErrCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, ex.StatusCode);
        Assert.True(ex.IsTransient);
    }

    [Fact]
    public async Task RateLimited_FallsBackToRetryAfterHeader()
    {
        var handler = new FakeHttpHandler(_ =>
        {
            var response = FakeHttpHandler.Json("""{"errcode":"M_LIMIT_EXCEEDED","error":"slow down"}""", HttpStatusCode.TooManyRequests);
            response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(7));
            return response;
        });
        using var client = TestClients.Create(handler);

        var ex = await Assert.ThrowsAsync<PresenceGridRateLimitedException>(() => client.MarkActiveAsync("@a:hs", "D"));

        Assert.Equal(TimeSpan.FromSeconds(7), ex.RetryAfter);
    }

    [Fact]
    public async Task NonJsonErrorBody_ThrowsWithUnknownErrCode()
    {
        var handler = new FakeHttpHandler(_ => new HttpResponseMessage(HttpStatusCode.BadGateway)
        {
            Content = new StringContent("<html>bad gateway</html>", System.Text.Encoding.UTF8, "text/html"),
        });
        using var client = TestClients.Create(handler);

        var ex = await Assert.ThrowsAsync<PresenceGridApiException>(() => client.HealthAsync());

        Assert.Equal(HttpStatusCode.BadGateway, ex.StatusCode);
        Assert.Equal(PresenceGridErrorCodes.Unknown, ex.ErrCode);
        Assert.Equal("HTTP 502 Bad Gateway", ex.Error);
        Assert.True(ex.IsTransient);
        Assert.Single(handler.Requests);
    }
}
