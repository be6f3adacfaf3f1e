namespace PresenceGrid.Silo.Tests;

/// <summary>
/// The Orleans Dashboard (<c>Microsoft.Orleans.Dashboard</c>) in the silo: at <c>dashboard.path</c>, on by default only when
/// the silo listens on loopback alone, and behind the frontend token when tokens are configured.
/// </summary>
public sealed class DashboardTests
{
    private const string Token = "dashboard-test-token-0123456789";

    private const string WithToken = $"""
        server_name: test
        frontend_tokens: ["{Token}"]
        """;

    /// <summary>A second listener beyond loopback (every address, a free port).</summary>
    private static readonly string[] AlsoBeyondLoopback = ["--h2c-urls", "http://0.0.0.0:0"];

    [Fact]
    public async Task Dashboard_IsServedAtSlashDashboard_OnALoopbackSilo_ByDefault()
    {
        await using RunningSilo silo = await RunningSilo.StartAsync();

        await AssertServedAsync(silo, "/dashboard");
    }

    [Fact]
    public async Task Dashboard_ConfiguredOff_IsNotFound()
    {
        await using RunningSilo silo = await RunningSilo.StartAsync(RunningSilo.DefaultConfig + "\ndashboard:\n  enabled: false\n");

        await AssertNotFoundAsync(silo, "/dashboard/", token: null);
    }

    [Fact]
    public async Task Dashboard_IsOffByDefault_WhenTheSiloAlsoListensBeyondLoopback()
    {
        await using RunningSilo silo = await RunningSilo.StartAsync(WithToken, AlsoBeyondLoopback);

        await AssertNotFoundAsync(silo, "/dashboard/", Token);
    }

    [Fact]
    public async Task Dashboard_EnabledBeyondLoopback_AtItsConfiguredPath_AsksForTheFrontendToken()
    {
        await using RunningSilo silo = await RunningSilo.StartAsync(WithToken + "\ndashboard:\n  enabled: true\n  path: /ops/orleans\n", AlsoBeyondLoopback);

        (int status, System.Text.Json.JsonElement body) = await silo.SendAsync(HttpMethod.Get, "/ops/orleans/");
        Assert.Equal(401, status);
        Assert.Equal("M_MISSING_TOKEN", body.GetProperty("errcode").GetString());
        (status, body) = await silo.SendAsync(HttpMethod.Get, "/ops/orleans/ClusterStats", token: "not-the-token-at-all-0123");
        Assert.Equal(401, status);
        Assert.Equal("M_UNKNOWN_TOKEN", body.GetProperty("errcode").GetString());

        await AssertServedAsync(silo, "/ops/orleans", Token);
        await AssertNotFoundAsync(silo, "/dashboard/", Token);
    }

    /// <summary>The dashboard's page and its JSON API (which asks the dashboard grain) answer under <paramref name="path"/>.</summary>
    private static async Task AssertServedAsync(RunningSilo silo, string path, string? token = null)
    {
        using HttpResponseMessage page = await GetAsync(silo, path + "/", token);
        Assert.Equal(System.Net.HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<html", await page.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);

        using HttpResponseMessage stats = await GetAsync(silo, path + "/ClusterStats", token);
        Assert.Equal(System.Net.HttpStatusCode.OK, stats.StatusCode);
        Assert.Equal("application/json", stats.Content.Headers.ContentType?.MediaType);
    }

    private static async Task AssertNotFoundAsync(RunningSilo silo, string path, string? token)
    {
        (int status, System.Text.Json.JsonElement body) = await silo.SendAsync(HttpMethod.Get, path, token: token);
        Assert.Equal(404, status);
        Assert.Equal("M_NOT_FOUND", body.GetProperty("errcode").GetString());
    }

    private static async Task<HttpResponseMessage> GetAsync(RunningSilo silo, string path, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        return await silo.Http.SendAsync(request);
    }
}
