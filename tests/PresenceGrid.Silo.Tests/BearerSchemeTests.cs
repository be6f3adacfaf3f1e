using System.Text.Json;

namespace PresenceGrid.Silo.Tests;

/// <summary>The <c>Authorization</c> scheme is case-insensitive (RFC 7235, 2.1): <c>bearer TOKEN</c> is a bearer token (issue 18, item 4).</summary>
public sealed class BearerSchemeTests : IAsyncLifetime
{
    private RunningSilo _silo = null!;

    public async Task InitializeAsync() => _silo = await RunningSilo.StartAsync("""
        server_name: test
        frontend_tokens: ["s3cret"]
        """);

    public async Task DisposeAsync() => await _silo.DisposeAsync();

    [Theory]
    [InlineData("Bearer s3cret", 200, null)]
    [InlineData("bearer s3cret", 200, null)]
    [InlineData("BEARER s3cret", 200, null)]
    [InlineData("bEaReR s3cret", 200, null)]
    [InlineData("Bearer   s3cret", 200, null)]
    [InlineData("bearer wrong", 401, "M_UNKNOWN_TOKEN")]
    [InlineData("bearer s3cre", 401, "M_UNKNOWN_TOKEN")]
    [InlineData("Basic s3cret", 401, "M_MISSING_TOKEN")]
    [InlineData("Bearers3cret", 401, "M_MISSING_TOKEN")]
    [InlineData("Bearer", 401, "M_MISSING_TOKEN")]
    [InlineData("Bearer ", 401, "M_MISSING_TOKEN")]
    [InlineData("s3cret", 401, "M_MISSING_TOKEN")]
    public async Task The_scheme_is_matched_without_regard_to_case(string authorization, int status, string? errcode)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/sync/{Uri.EscapeDataString("@a:test")}");
        Assert.True(request.Headers.TryAddWithoutValidation("Authorization", authorization));

        using HttpResponseMessage response = await _silo.Http.SendAsync(request);

        Assert.Equal(status, (int)response.StatusCode);
        if (errcode is not null)
        {
            using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal(errcode, body.RootElement.GetProperty("errcode").GetString());
        }
    }
}
