using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PresenceGrid.Silo.Configuration;

namespace PresenceGrid.Silo.Tests;

/// <summary>
/// Every bad configuration the silo can be given (file keys, option values checked by the grid, modules, the command line):
/// each is refused in-process exactly as the executable refuses it, with one line naming the file (or the command line) and
/// the key, and <see cref="SiloApp.BadConfigurationExitCode"/> (2).
/// </summary>
public sealed class ConfigCatalogueTests
{
    private const string Good = "server_name: test\n";
    private const string CommandLine = "command line";

    /// <summary>Name → (file contents, extra arguments, where (the file or the command line), key, a fragment of what is wrong).</summary>
    private static readonly Dictionary<string, (string Yaml, string[] Args, string Source, string Key, string Message)> Catalogue = new()
    {
        // presence.router (issue 18, item 8): once an unhandled FormatException (exit 134).
        ["router timeout negative"] = (Good + "presence:\n  router:\n    module_callback_timeout: -1s\n", [], "file", "presence.router.module_callback_timeout", "not a valid duration"),
        ["router timeout zero"] = (Good + "presence:\n  router:\n    module_callback_timeout: 0\n", [], "file", "presence.router.module_callback_timeout", "greater than 0"),
        ["router timeout too long"] = (Good + "presence:\n  router:\n    module_callback_timeout: 50d\n", [], "file", "presence.router.module_callback_timeout", "less than 49 days"),
        ["router timeout words"] = (Good + "presence:\n  router:\n    module_callback_timeout: soon\n", [], "file", "presence.router.module_callback_timeout", "not a valid duration"),
        ["router unknown key"] = (Good + "presence:\n  router:\n    timeout: 1s\n", [], "file", "presence.router.timeout", "unknown key"),
        ["router a list"] = (Good + "presence:\n  router: [1s]\n", [], "file", "presence.router", "must be a mapping"),

        // Option values the grid validates (once reported at start-up without the file).
        ["sync_online_timeout zero"] = (Good + "presence:\n  sync_online_timeout: 0\n", [], "file", "presence.sync_online_timeout", "greater than 0"),
        ["last_active_granularity zero"] = (Good + "presence:\n  last_active_granularity: 0\n", [], "file", "presence.last_active_granularity", "greater than 0"),
        ["idle_timeout below granularity"] = (Good + "presence:\n  idle_timeout: 30s\n  last_active_granularity: 60s\n", [], "file", "presence.idle_timeout", "greater than presence.last_active_granularity"),
        ["excluded room not a room id"] = (Good + "exclude_rooms_from_presence: [\"lobby\"]\n", [], "file", "exclude_rooms_from_presence", "'lobby' is not a valid room id"),
        ["duration overflow"] = (Good + "presence:\n  idle_timeout: 99999999999999999y\n", [], "file", "presence.idle_timeout", "not a valid duration"),
        ["max_sync_timeout negative"] = (Good + "presence:\n  max_sync_timeout: -5\n", [], "file", "presence.max_sync_timeout", "not a valid duration"),

        // frontend_tokens (item 9).
        ["empty token"] = (Good + "frontend_tokens: [\"\"]\n", [], "file", "frontend_tokens[0]", "must not be empty or whitespace"),
        ["blank token"] = (Good + "frontend_tokens: [\"   \"]\n", [], "file", "frontend_tokens[0]", "must not be empty or whitespace"),
        ["second token empty"] = (Good + "frontend_tokens: [\"a-long-enough-token-123\", \"\"]\n", [], "file", "frontend_tokens[1]", "must not be empty or whitespace"),
        ["tokens a string"] = (Good + "frontend_tokens: \"a-long-enough-token-123\"\n", [], "file", "frontend_tokens", "must be a list of strings"),
        ["token a list"] = (Good + "frontend_tokens: [[a]]\n", [], "file", "frontend_tokens[0]", "must be a string"),
        ["no tokens off loopback"] = (Good, ["--urls", "http://0.0.0.0:0"], "file", "frontend_tokens", "loopback"),

        // The file's shape (item 10: an empty file is the defaults; anything else that is not a mapping is refused).
        ["file a list"] = ("- server_name\n- test\n", [], "file", "(file)", "must be a mapping"),
        ["file a single value"] = ("server_name test\n", [], "file", "(file)", "must be a mapping"),
        ["not YAML"] = ("server_name: [test\n", [], "file", "(line", "not valid YAML"),
        ["file missing"] = (string.Empty, ["--config", "/nonexistent/pgrid.yaml"], "/nonexistent/pgrid.yaml", "(file)", "cannot be read"),
        ["file a directory"] = (string.Empty, ["--config", "/tmp"], "/tmp", "(file)", "cannot be read"),

        // The command line (item 11): only --config, --urls and --h2c-urls.
        ["command line server_name"] = (Good, ["--server_name", "example.com"], CommandLine, "--server_name", "unknown option"),
        ["command line presence key"] = (Good, ["--presence:enabled=false"], CommandLine, "--presence", "unknown option"),
        ["command line slash option"] = (Good, ["/environment", "Development"], CommandLine, "--environment", "unknown option"),
        ["command line stray argument"] = (Good, ["--urls", "http://127.0.0.1:0", "silo"], CommandLine, "silo", "unexpected argument"),
        ["command line option without a value"] = (Good, ["--urls", "http://127.0.0.1:0", "--h2c-urls"], CommandLine, "--h2c-urls", "needs a value"),
        ["command line single dash"] = (Good, ["-urls", "http://127.0.0.1:0"], CommandLine, "-urls", "unexpected argument"),
        ["urls not a url"] = (Good, ["--urls", "notaurl"], CommandLine, "--urls", "not a URL the silo can listen on"),
        ["urls https"] = (Good, ["--urls", "https://127.0.0.1:0"], CommandLine, "--urls", "not a URL the silo can listen on"),
        ["urls a host name"] = (Good, ["--urls", "http://example.com:8787"], CommandLine, "--urls", "not a URL the silo can listen on"),
        ["urls with a path"] = (Good, ["--urls", "http://127.0.0.1:0/grid"], CommandLine, "--urls", "not a URL the silo can listen on"),
        ["h2c-urls not http"] = (Good, ["--h2c-urls", "ftp://127.0.0.1:0"], CommandLine, "--h2c-urls", "not a URL the silo can listen on"),

        // Modules (item 12 and load errors, once reported at start-up without the file).
        ["routes a list"] = (Good + "modules:\n  - module: PresenceGrid.Modules.PairRouter\n    config:\n      routes:\n        - \"@a:test\"\n        - \"@b:test\"\n", [], "file", "modules[0]", "'routes' must be a map"),
        ["routes a bad receiver"] = (Good + "modules:\n  - module: PresenceGrid.Modules.PairRouter\n    config:\n      routes:\n        \"bob\": [\"@a:test\"]\n", [], "file", "modules[0]", "not a valid Matrix user id"),
        ["unknown module"] = (Good + "modules:\n  - module: PresenceGrid.Modules.NoSuchRouter\n", [], "file", "modules[0]", "NoSuchRouter"),
        ["module bad config key"] = (Good + "modules:\n  - module: PresenceGrid.Modules.AlwaysSendToUsersRouter\n    config:\n      always_send_to: [\"@a:test\"]\n", [], "file", "modules[0]", "always_send_to"),
        ["module bad user"] = (Good + "modules:\n  - module: PresenceGrid.Modules.AlwaysSendToUsersRouter\n    config:\n      always_send_to_users: [\"gobbler\"]\n", [], "file", "modules[0]", "gobbler"),
        ["legacy router unknown"] = (Good + "presence:\n  presence_router:\n    module: PresenceGrid.Modules.NoSuchRouter\n", [], "file", "presence", "NoSuchRouter"),
        ["modules a mapping"] = (Good + "modules: {}\n", [], "file", "modules", "list"),

        // What docs/configuration.md lists: unknown keys, wrong types, bad values.
        ["unknown top-level key"] = (Good + "presense: {}\n", [], "file", "presense", "unknown key"),
        ["unknown presence key"] = (Good + "presence:\n  enable: true\n", [], "file", "presence.enable", "unknown key"),
        ["presence enabled maybe"] = (Good + "presence:\n  enabled: maybe\n", [], "file", "presence.enabled", "true, false or untracked"),
        ["presence a list"] = (Good + "presence: [enabled]\n", [], "file", "presence", "must be a mapping"),
        ["include_offline not a bool"] = (Good + "presence:\n  include_offline_users_on_sync: sometimes\n", [], "file", "presence.include_offline_users_on_sync", "true or false"),
        ["broadcast threshold negative"] = (Good + "presence:\n  broadcast_room_threshold: -1\n", [], "file", "presence.broadcast_room_threshold", "whole number"),
        ["rc_presence per_second words"] = (Good + "rc_presence:\n  per_second: fast\n", [], "file", "rc_presence.per_second", "number"),
        ["rc_presence per_second negative"] = (Good + "rc_presence:\n  per_second: -1\n", [], "file", "rc_presence.per_second", "number"),
        ["rc_presence burst negative"] = (Good + "rc_presence:\n  burst_count: -1\n", [], "file", "rc_presence.burst_count", "whole number"),
        ["rc_presence unknown key"] = (Good + "rc_presence:\n  per_minute: 1\n", [], "file", "rc_presence.per_minute", "unknown key"),
        ["server_name invalid"] = (Good.Replace("test", "'not a server!'", StringComparison.Ordinal), [], "file", "server_name", "not a valid server name"),
        ["server_name a list"] = ("server_name: [test]\n", [], "file", "server_name", "must be a string"),
        ["server_name empty"] = ("server_name: ''\n", [], "file", "server_name", "not a valid server name"),
        ["excluded rooms a string"] = (Good + "exclude_rooms_from_presence: \"!r:test\"\n", [], "file", "exclude_rooms_from_presence", "must be a list"),
        ["experimental unknown key"] = (Good + "experimental_features:\n  msc9999_enabled: true\n", [], "file", "experimental_features.msc9999_enabled", "unknown key"),
        ["busy not a bool"] = (Good + "experimental_features:\n  msc3026_enabled: yes-please\n", [], "file", "experimental_features.msc3026_enabled", "true or false"),
        ["otlp endpoint not http"] = (Good + "metrics:\n  otlp_endpoint: ftp://collector\n", [], "file", "metrics.otlp_endpoint", "absolute http(s) URL"),
        ["otlp interval words"] = (Good + "metrics:\n  otlp_interval: often\n", [], "file", "metrics.otlp_interval", "not a valid duration"),
        ["metrics unknown key"] = (Good + "metrics:\n  prometheus: true\n", [], "file", "metrics.prometheus", "unknown key"),
        ["dashboard enabled maybe"] = (Good + "dashboard:\n  enabled: maybe\n", [], "file", "dashboard.enabled", "true or false"),
        ["dashboard a list"] = (Good + "dashboard: [true]\n", [], "file", "dashboard", "must be a mapping"),
        ["dashboard unknown key"] = (Good + "dashboard:\n  route: /ops\n", [], "file", "dashboard.route", "unknown key"),
        ["dashboard path relative"] = (Good + "dashboard:\n  path: dashboard\n", [], "file", "dashboard.path", "must be an absolute path"),
        ["dashboard path trailing slash"] = (Good + "dashboard:\n  path: /dashboard/\n", [], "file", "dashboard.path", "must be an absolute path"),
        ["dashboard path root"] = (Good + "dashboard:\n  path: /\n", [], "file", "dashboard.path", "must be an absolute path"),
        ["dashboard path dot-dot"] = (Good + "dashboard:\n  path: /ops/..\n", [], "file", "dashboard.path", "must be an absolute path"),
        ["dashboard path a query"] = (Good + "dashboard:\n  path: /ops?x=1\n", [], "file", "dashboard.path", "must be an absolute path"),
        ["dashboard path under the API"] = (Good + "dashboard:\n  path: /v1/dashboard\n", [], "file", "dashboard.path", "under /v1"),
        ["dashboard path on metrics"] = (Good + "dashboard:\n  path: /Metrics\n", [], "file", "dashboard.path", "under /metrics"),
        ["cluster without cluster_id"] = (Good + "cluster:\n  postgres: \"Host=127.0.0.1\"\n  secret: \"0123456789abcdef\"\n", [], "file", "cluster.cluster_id", "is required"),
        ["cluster without secret"] = (Good + "cluster:\n  cluster_id: c\n  postgres: \"Host=127.0.0.1\"\n", [], "file", "cluster.secret", "is required"),
        ["cluster short secret"] = (Good + "cluster:\n  secret: short\n", [], "file", "cluster.secret", "at least 16 characters"),
        ["cluster bad id"] = (Good + "cluster:\n  cluster_id: Prod 1\n", [], "file", "cluster.cluster_id", "a-z, 0-9"),
        ["cluster bad connection string"] = (Good + "cluster:\n  postgres: \"Host\"\n", [], "file", "cluster.postgres", "not a valid connection string"),
        ["cluster host name"] = (Good + "cluster:\n  silo_host: grid.example.org\n", [], "file", "cluster.silo_host", "IP address"),
        ["cluster port too big"] = (Good + "cluster:\n  silo_port: 70000\n", [], "file", "cluster.silo_port", "65535"),
        ["cluster tls certificate not pkcs12"] = (Good + "cluster:\n  cluster_id: c\n  postgres: \"Host=127.0.0.1\"\n  secret: \"0123456789abcdef\"\n  tls_certificate: /etc/hostname\n", [], "file", "cluster.tls_certificate", "PKCS#12"),
        ["cluster tls certificate missing"] = (Good + "cluster:\n  tls_certificate: /nonexistent/silo.pfx\n", [], "file", "cluster.tls_certificate", "no such file"),
        ["cluster gateway port too big"] = (Good + "cluster:\n  gateway_port: 70000\n", [], "file", "cluster.gateway_port", "65535"),
        ["cluster gateway port negative"] = (Good + "cluster:\n  gateway_port: -1\n", [], "file", "cluster.gateway_port", "whole number"),
        ["cluster lease too short"] = (Good + "cluster:\n  lease_ms: 100\n", [], "file", "cluster.lease_ms", "500 to 600000"),
        ["cluster group commit too long"] = (Good + "cluster:\n  group_commit_ms: 5000\n", [], "file", "cluster.group_commit_ms", "0 (commit at once) to 1000 ms"),
        ["cluster unknown key"] = (Good + "cluster:\n  members: 3\n", [], "file", "cluster.members", "unknown key"),
    };

    public static TheoryData<string> Cases => [.. Catalogue.Keys];

    [Theory]
    [MemberData(nameof(Cases))]
    public void BadConfiguration_IsOneLine_NamingTheFileAndTheKey_AndExits2(string name)
    {
        (string yaml, string[] args, string source, string key, string message) = Catalogue[name];
        string file = Path.Combine(Path.GetTempPath(), $"pg-cat-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(file, yaml);
        try
        {
            string[] arguments = args.Contains("--config") ? args : ["--config", file, .. args.Contains("--urls") ? [] : new[] { "--urls", "http://127.0.0.1:0" }, .. args];
            var error = new StringWriter();
            WebApplication? app = SiloApp.BuildOrReport(arguments, error);
            if (app is not null)
            {
                ((IDisposable)app).Dispose();
                Assert.Fail($"{name}: the configuration was accepted.");
            }

            string where = source == "file" ? file : source;
            string line = error.ToString().TrimEnd();
            Assert.DoesNotContain('\n', line);
            Assert.StartsWith($"Bad configuration: {where}: ", line);
            Assert.Contains(key, line[$"Bad configuration: {where}: ".Length..]);
            Assert.Contains(message, line);
            Assert.Equal(2, SiloApp.BadConfigurationExitCode);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("# nothing but a comment\n")]
    [InlineData("~\n")]
    [InlineData("silo_name: quiet\n")]
    public async Task AnEmptyFile_AndAFileWithoutServerName_BothServeLocalhost(string yaml)
    {
        await using var silo = await RunningSilo.StartAsync(yaml);

        Assert.Equal(["localhost"], silo.Services.GetRequiredService<IOptions<Hosting.PresenceOptions>>().Value.ServerNames);
        string alice = Uri.EscapeDataString("@alice:localhost");
        Assert.Equal(200, (await silo.SendAsync(HttpMethod.Put, $"/v1/presence/{alice}/status", """{"presence":"online"}""")).Status);
    }

    [Fact]
    public void AShortToken_IsAccepted_WithAWarningNamingTheKey()
    {
        SiloConfigFile config = SiloConfigFile.Parse("frontend_tokens: [\"0123456789abcdef\", \"s3cret\"]\n", "short.yaml");

        Assert.Equal(2, config.FrontendTokens.Count);
        string warning = Assert.Single(config.Warnings);
        Assert.StartsWith("short.yaml: frontend_tokens[1]: ", warning);
        Assert.Contains("shorter than 16 characters", warning);
        Assert.DoesNotContain("s3cret", warning);
    }
}
