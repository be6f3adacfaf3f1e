using PresenceGrid.Hosting;
using PresenceGrid.Presence;
using PresenceGrid.Silo.Configuration;

namespace PresenceGrid.Silo.Tests;

public sealed class AuthAndConfigTests
{
    [Fact]
    public async Task WithTokens_MissingAndUnknownTokens_Are401_AndAGoodTokenPasses()
    {
        await using var silo = await RunningSilo.StartAsync("""
            server_name: test
            frontend_tokens: ["s3cret"]
            """);
        string path = $"/v1/presence/{Uri.EscapeDataString("@a:test")}/status";

        var missing = await silo.SendAsync(HttpMethod.Put, path, """{"presence":"online"}""");
        var unknown = await silo.SendAsync(HttpMethod.Put, path, """{"presence":"online"}""", token: "wrong");
        var ok = await silo.SendAsync(HttpMethod.Put, path, """{"presence":"unavailable"}""", token: "s3cret");
        var check = await silo.SendAsync(HttpMethod.Get, $"{path}?requester={Uri.EscapeDataString("@a:test")}", token: "s3cret");

        Assert.Equal((401, "M_MISSING_TOKEN"), (missing.Status, missing.Body.GetProperty("errcode").GetString()));
        Assert.Equal((401, "M_UNKNOWN_TOKEN"), (unknown.Status, unknown.Body.GetProperty("errcode").GetString()));
        Assert.Equal(200, ok.Status);
        Assert.Equal("unavailable", check.Body.GetProperty("presence").GetString());
        Assert.Equal(200, (await silo.SendAsync(HttpMethod.Get, "/healthz")).Status);
    }

    [Fact]
    public async Task WithTokens_ThePlacementViewIsReadWithAFrontendToken()
    {
        await using var silo = await RunningSilo.StartAsync("""
            server_name: test
            frontend_tokens: ["s3cret"]
            """);

        var missing = await silo.SendAsync(HttpMethod.Get, "/v1/cluster/placement");
        var ok = await silo.SendAsync(HttpMethod.Get, "/v1/cluster/placement", token: "s3cret");

        Assert.Equal(401, missing.Status);
        Assert.Equal(200, ok.Status);
        Assert.Single(ok.Body.GetProperty("silos").EnumerateArray());
    }

    [Fact]
    public async Task RateLimit_Is429_WithRetryAfter_AndChangesNothing()
    {
        await using var silo = await RunningSilo.StartAsync("""
            server_name: test
            rc_presence:
              per_user:
                per_second: 0.1
                burst_count: 1
            """);
        string user = Uri.EscapeDataString("@r:test");
        await silo.SendAsync(HttpMethod.Put, $"/v1/presence/{user}/status", """{"presence":"online","status_msg":"first"}""");

        var limited = await silo.SendAsync(HttpMethod.Put, $"/v1/presence/{user}/status", """{"presence":"unavailable","status_msg":"second"}""");

        Assert.Equal(429, limited.Status);
        Assert.Equal("M_LIMIT_EXCEEDED", limited.Body.GetProperty("errcode").GetString());
        Assert.InRange(limited.Body.GetProperty("retry_after_ms").GetInt64(), 1, 10_000);
        var get = await silo.SendAsync(HttpMethod.Get, $"/v1/presence/{user}/status?requester={user}");
        Assert.Equal("first", get.Body.GetProperty("status_msg").GetString());
    }

    [Fact]
    public async Task PresenceDisabled_PutIsRateLimitedFirst_AndItsValueNeverValidated()
    {
        await using var silo = await RunningSilo.StartAsync("""
            server_name: test
            presence:
              enabled: false
            rc_presence:
              per_second: 0.1
              burst_count: 1
            """);
        string path = $"/v1/presence/{Uri.EscapeDataString("@d:test")}/status";

        var invalid = await silo.SendAsync(HttpMethod.Put, path, """{"presence":"away"}""");
        var limited = await silo.SendAsync(HttpMethod.Put, path, """{"presence":"online"}""");

        Assert.Equal(200, invalid.Status);
        Assert.Equal((429, "M_LIMIT_EXCEEDED"), (limited.Status, limited.Body.GetProperty("errcode").GetString()));
    }

    [Theory]
    [InlineData("server_name: test\npresense: {}\n", "presense", "unknown key")]
    [InlineData("server_name: test\npresence:\n  enabled: maybe\n", "presence.enabled", "true, false or untracked")]
    [InlineData("server_name: test\npresence:\n  idle_timeout: soon\n", "presence.idle_timeout", "duration")]
    [InlineData("server_name: test\nrc_presence:\n  per_second: fast\n", "rc_presence.per_second", "number")]
    [InlineData("server_name: test\nrc_presence:\n  per_user:\n    per_second: fast\n", "rc_presence.per_user.per_second", "number")]
    [InlineData("server_name: test\nrc_presence:\n  per_user:\n    burst: 2\n", "rc_presence.per_user.burst", "unknown key")]
    [InlineData("server_name: test\nrc_presence:\n  per_second: 1\n  per_user:\n    per_second: 2\n", "rc_presence.per_user.per_second", "given twice")]
    [InlineData("server_name: test\nrc_presence:\n  per_user:\n    burst_count: 2\n  burst_count: 3\n", "rc_presence.burst_count", "given twice")]
    [InlineData("server_name: test\nuse_presence: false\npresence:\n  enabled: true\n", "use_presence", "conflicts with presence.enabled")]
    [InlineData("server_name: test\nuse_presence: sometimes\n", "use_presence", "true, false or untracked")]
    [InlineData("server_name: 'not a server!'\n", "server_name", "not a valid server name")]
    [InlineData("server_name: test\nmodules: {}\n", "modules", "list")]
    [InlineData("server_name: [test\n", "(line", "not valid YAML")]
    [InlineData("server_name: test\ncluster:\n  cluster_id: c\n  postgres: \"Host=127.0.0.1\"\n  group_commit_ms: 5000\n", "cluster.group_commit_ms", "0 (commit at once) to 1000 ms")]
    public void BadConfig_NamesTheFileAndTheKey(string yaml, string key, string message)
    {
        var error = Assert.Throws<SiloConfigException>(() => SiloConfigFile.Parse(yaml, "bad.yaml"));

        Assert.StartsWith("bad.yaml: ", error.Message);
        Assert.Contains(key, error.Message);
        Assert.Contains(message, error.Message);
    }

    [Theory]
    [InlineData("rc_presence:\n  per_user:\n    per_second: 0.5\n    burst_count: 3\n")]
    [InlineData("rc_presence:\n  per_second: 0.5\n  burst_count: 3\n")]
    [InlineData("rc_presence:\n  per_user:\n    per_second: 0.5\n  burst_count: 3\n")]
    public void RcPresence_SynapsesPerUserShape_AndTheFlatAlias_SetTheLimit(string yaml)
    {
        var options = new PresenceOptions();

        SiloConfigFile.Parse("server_name: test\n" + yaml, "c.yaml").ConfigurePresence(options);

        Assert.Equal((0.5, 3), (options.Timings.RatelimitPerSecond, options.Timings.RatelimitBurstCount));
    }

    [Theory]
    [InlineData("use_presence: false\n", PresenceMode.Disabled)]
    [InlineData("use_presence: untracked\n", PresenceMode.Untracked)]
    [InlineData("use_presence: true\n", PresenceMode.Enabled)]
    [InlineData("use_presence: false\npresence:\n  enabled: false\n", PresenceMode.Disabled)]
    [InlineData("presence:\n  enabled: untracked\n", PresenceMode.Untracked)]
    public void UsePresence_TheLegacyTopLevelKey_SetsPresenceEnabled(string yaml, PresenceMode expected)
    {
        var options = new PresenceOptions();

        SiloConfigFile.Parse("server_name: test\n" + yaml, "c.yaml").ConfigurePresence(options);

        Assert.Equal(expected, options.Mode);
    }

    [Fact]
    public void GroupCommitWindow_IsReadFromTheClusterSection()
    {
        const string Cluster = "server_name: test\ncluster:\n  cluster_id: c\n  postgres: \"Host=127.0.0.1\"\n  secret: \"0123456789abcdef\"\n";

        Assert.Equal(2, SiloConfigFile.Parse(Cluster, "c.yaml").Cluster!.GroupCommitMs);
        Assert.Equal(7, SiloConfigFile.Parse(Cluster + "  group_commit_ms: 7\n", "c.yaml").Cluster!.GroupCommitMs);
    }

    [Fact]
    public async Task UnknownModuleType_StopsStartup_NamingTheModule()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => RunningSilo.StartAsync("""
            server_name: test
            modules:
              - module: PresenceGrid.Modules.NoSuchRouter
            """));

        Assert.Contains("NoSuchRouter", error.Message);
        Assert.Contains("modules[0]", error.Message);
    }

    [Fact]
    public void NoTokens_AndANonLoopbackUrl_IsRefused()
    {
        string file = Path.Combine(Path.GetTempPath(), $"pg-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(file, "server_name: test\n");
        try
        {
            var error = Assert.Throws<SiloConfigException>(() => SiloApp.Build(["--config", file, "--urls", "http://0.0.0.0:0"]));
            Assert.Contains("frontend_tokens", error.Message);
            Assert.Contains("loopback", error.Message);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void BundledSampleConfig_IsValid()
    {
        var config = SiloConfigFile.Load(Path.Combine(AppContext.BaseDirectory, SiloApp.DefaultConfigFile));

        Assert.Equal("localhost", config.ServerName);
        Assert.Contains(config.ModuleKeys, k => k.Value == "PresenceGrid.Modules.AlwaysSendToUsersRouter");
    }
}
