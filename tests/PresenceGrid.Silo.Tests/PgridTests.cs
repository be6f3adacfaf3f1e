using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using PresenceGrid.Cli;
using PresenceGrid.Modules;

namespace PresenceGrid.Silo.Tests;

/// <summary>pgrid against a real silo; its output is read from the console (hence no parallel tests here).</summary>
[Collection(nameof(ConsoleCollection))]
public sealed class PgridTests
{
    private const string SiloToken = "pgrid-test-token-0123456789";

    private static Task<(int Exit, string Output, string Error)> Pgrid(params string[] args) => PgridRunner.RunAsync(args);

    /// <summary>A config file (in the temp folder; the caller deletes it) with a PairRouter of <paramref name="routes"/>, YAML lines "receiver": [senders].</summary>
    private static async Task<string> PairRouterConfigAsync(params string[] routes)
    {
        string file = Path.Combine(Path.GetTempPath(), $"pg-pairs-{Guid.NewGuid():N}.yaml");
        string yaml = "server_name: test\nmodules:\n  - module: PresenceGrid.Modules.PairRouter\n    config:\n      routes:\n"
            + string.Concat(routes.Select(route => $"        {route}\n"));
        await File.WriteAllTextAsync(file, yaml);
        return file;
    }

    /// <summary>
    /// Bad input to pgrid, each against a running silo ({url}; "protected" ones against a silo that wants a token): a
    /// non-zero exit and a one-line message on stderr that says what is wrong, never a stack trace.
    /// </summary>
    public static TheoryData<string, bool, string[], string> BadInputs => new()
    {
        { "sync with a negative timeout", false, ["sync", "@a:test", "--url", "{url}", "--timeout-ms", "-5"], "--timeout-ms must be 0 or more; got -5." },
        { "a --url that is not a URL", false, ["get", "@a:test", "--url", "notaurl"], "--url: 'notaurl' is not an absolute http(s) URL" },
        { "a --url that is not a URL, before the command", false, ["--url", "notaurl", "get", "@a:test"], "pgrid: --url: 'notaurl' is not an absolute http(s) URL" },
        { "load with negative users", false, ["load", "--url", "{url}", "--server", "test", "--seconds", "1", "--users", "-5"], "--users must be a positive number; got -5." },
        { "load with no concurrency", false, ["load", "--url", "{url}", "--server", "test", "--seconds", "1", "--concurrency", "0"], "--concurrency must be a positive number; got 0." },
        { "load with empty rooms", false, ["load", "--url", "{url}", "--server", "test", "--seconds", "1", "--users", "4", "--room-size", "0"], "--room-size must be a positive number; got 0." },
        { "load for no time", false, ["load", "--url", "{url}", "--server", "test", "--users", "4", "--room-size", "2", "--watchers", "1", "--seconds", "0"], "--seconds must be a positive number; got 0." },
        { "load for negative time", false, ["load", "--url", "{url}", "--server", "test", "--users", "4", "--room-size", "2", "--watchers", "1", "--seconds", "-3"], "--seconds must be a positive number; got -3." },
        { "load without the token a protected silo wants", true, ["load", "--url", "{url}", "--server", "test", "--users", "4", "--room-size", "2", "--watchers", "1", "--seconds", "1"], "M_MISSING_TOKEN: " },
        { "set without the token a protected silo wants", true, ["set", "@a:test", "online", "--url", "{url}"], "M_MISSING_TOKEN: " },
        { "check-module with a --user that is not a user id", false, ["check-module", "/nonexistent.yaml", "--user", "bob"], "--user: 'bob' is not a Matrix user id" },
        { "a presence state that is empty", false, ["set", "@a:test", " ", "--url", "{url}"], "presence: must not be empty" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task BadInput_ExitsNonZero_WithOneLineAndNoStackTrace(string name, bool protectedSilo, string[] args, string message)
    {
        await using var silo = await RunningSilo.StartAsync(protectedSilo ? RunningSilo.DefaultConfig + $"\nfrontend_tokens: [\"{SiloToken}\"]\n" : RunningSilo.DefaultConfig);

        var run = await Pgrid([.. args.Select(a => a.Replace("{url}", silo.Address.ToString(), StringComparison.Ordinal))]);

        string[] errorLines = run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(run.Exit != 0, $"{name}: exit 0\n{run.Output}");
        Assert.DoesNotContain("   at ", run.Output, StringComparison.Ordinal);
        Assert.True(errorLines.Length == 1, $"{name}: {errorLines.Length} lines on stderr\n{run.Error}");
        Assert.Contains(message, errorLines[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Watch_AgainstADeadUrl_SaysItRetries_AndGivesUp()
    {
        // A port that was just free: nothing listens on it.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var run = await Pgrid("watch", "@a:test", "--url", $"http://127.0.0.1:{port}", "--give-up-after", "1");

        Assert.Equal(1, run.Exit);
        Assert.DoesNotContain("   at ", run.Output, StringComparison.Ordinal);
        Assert.Contains("watch: no silo reachable", run.Error, StringComparison.Ordinal);
        Assert.Contains("retrying in 0.25 s (backoff", run.Error, StringComparison.Ordinal);
        Assert.Contains("watch: giving up", run.Error, StringComparison.Ordinal);
        Assert.Contains("--forever", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Load_WithNothingButFailures_SaysWhy_ByErrCode()
    {
        await using var silo = await RunningSilo.StartAsync();

        // The silo serves server "test"; these users are on example.org.
        var run = await Pgrid("load", "--url", silo.Address.ToString(), "--server", "example.org", "--users", "4", "--room-size", "2", "--watchers", "0", "--seconds", "1");

        Assert.NotEqual(0, run.Exit);
        Assert.DoesNotContain("   at ", run.Output, StringComparison.Ordinal);
        Assert.Contains("M_INVALID_PARAM", run.Error, StringComparison.Ordinal);
        Assert.Contains("is not a local user of this grid", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Load_MostlyRateLimited_PrintsTheRcPresenceHint()
    {
        // Synapse's default rc_presence: one change per user every 10 s.
        await using var silo = await RunningSilo.StartAsync("""
            server_name: test
            rc_presence:
              per_second: 0.1
              burst_count: 1
            """);

        var run = await Pgrid("load", "--url", silo.Address.ToString(), "--server", "test", "--users", "4", "--room-size", "2", "--watchers", "1", "--concurrency", "2", "--seconds", "1");

        Assert.True(run.Exit == 0, run.Output);
        Assert.Contains("refused with 429", run.Error, StringComparison.Ordinal);
        Assert.Contains("set rc_presence.per_second: 0", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_DescribesEveryArgumentAndOption_AndOnlyClientCommandsTakeUrlAndToken()
    {
        RootCommand root = PgridCommands.Build();
        var undescribed = new List<string>();
        void Walk(Command command, string path)
        {
            undescribed.AddRange(command.Arguments.Where(a => string.IsNullOrWhiteSpace(a.Description)).Select(a => $"{path} <{a.Name}>"));
            undescribed.AddRange(command.Options.Where(o => string.IsNullOrWhiteSpace(o.Description)).Select(o => $"{path} {o.Name}"));
            foreach (Command sub in command.Subcommands)
            {
                Walk(sub, $"{path} {sub.Name}");
            }
        }

        Walk(root, "pgrid");
        var checkModule = await Pgrid("check-module", "--help");
        var silo = await Pgrid("silo", "--help");
        var set = await Pgrid("set", "--help");

        Assert.Empty(undescribed);
        Assert.Equal("Join a user to a room (as the homeserver reports it).", root.Subcommands.Single(c => c.Name == "join").Description);
        Assert.Equal("Make a user leave a room (as the homeserver reports it).", root.Subcommands.Single(c => c.Name == "leave").Description);
        var listed = new System.Text.RegularExpressions.Regex(@"^\s*--(url|token)\b", System.Text.RegularExpressions.RegexOptions.Multiline);
        Assert.Equal(0, checkModule.Exit);
        Assert.DoesNotMatch(listed, checkModule.Output);
        Assert.DoesNotMatch(listed, silo.Output);
        Assert.Equal(2, listed.Matches(set.Output).Count);
    }

    [Fact]
    public async Task CheckModule_SamplesTheUserIdsOfTheModulesConfig_NotListIndexesAsPorts()
    {
        string file = await PairRouterConfigAsync("\"@alice:test\": [\"@bob:test\", \"@dan:test\"]", "\"@carol:test:8448\": [\"@alice:test\"]");
        try
        {
            var run = await Pgrid("check-module", file);

            Assert.Equal(0, run.Exit);
            Assert.Contains("sampled 4 users: @alice:test, @bob:test, @carol:test:8448, @dan:test", run.Output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task SetJoinGetSyncExplain_AgainstARunningSilo()
    {
        await using var silo = await RunningSilo.StartAsync();
        string url = $"--url={silo.Address}";

        Assert.Equal(0, (await Pgrid(url, "set", "@a:test", "online", "--status", "from pgrid")).Exit);
        Assert.Equal(0, (await Pgrid(url, "join", "!r:test", "@a:test")).Exit);
        Assert.Equal(0, (await Pgrid(url, "join", "!r:test", "@b:test")).Exit);
        var get = await Pgrid("get", "@a:test", "--requester", "@b:test", url);
        var sync = await Pgrid(url, "sync", "@b:test");
        var explain = await Pgrid(url, "explain", "@a:test", "@b:test");
        var stranger = await Pgrid(url, "get", "@a:test", "--requester", "@c:test");
        Assert.Equal(0, (await Pgrid(url, "leave", "!r:test", "@b:test")).Exit);
        var after = await Pgrid(url, "explain", "@a:test", "@b:test");

        Assert.Contains("@a:test online \"from pgrid\"", get.Output);
        Assert.Contains("@a:test online", sync.Output);
        Assert.Contains("next_batch: p", sync.Output);
        Assert.Contains("room !r:test", explain.Output);
        Assert.Equal(1, stranger.Exit);
        Assert.Contains("M_FORBIDDEN", stranger.Output);
        Assert.Contains("not delivered", after.Output);
    }

    [Fact]
    public async Task Load_WithARate_SendsThatManyUpdatesASecond_WhateverTheConcurrency()
    {
        await using var silo = await RunningSilo.StartAsync();
        string[] common = [$"--url={silo.Address}", "load", "--server", "test", "--users", "40", "--room-size", "4", "--seconds", "2", "--watchers", "2"];

        // A closed loop at this concurrency sends thousands a second; the open loop sends its 2 s × 150 slots.
        var paced = await Pgrid([.. common, "--rate", "150", "--concurrency", "8"]);
        var negative = await Pgrid([.. common, "--rate", "-1"]);
        var withSyncs = await Pgrid([.. common, "--rate", "10", "--syncs"]);

        Assert.True(paced.Exit == 0, paced.Output);
        var sent = System.Text.RegularExpressions.Regex.Match(paced.Output, @"updates: ([\d,]+) accepted .*refused 429: ([\d,]+); failed: ([\d,]+)");
        Assert.True(sent.Success, paced.Output);
        int total = new[] { 1, 2, 3 }.Sum(g => int.Parse(sent.Groups[g].Value, System.Globalization.NumberStyles.AllowThousands, System.Globalization.CultureInfo.InvariantCulture));
        Assert.InRange(total, 250, 300);
        Assert.Contains("open loop at 150/s:", paced.Output, StringComparison.Ordinal);
        Assert.NotEqual(0, negative.Exit);
        Assert.Contains("--rate must be 0 (closed loop) or a positive number", negative.Output, StringComparison.Ordinal);
        Assert.NotEqual(0, withSyncs.Exit);
        Assert.Contains("--rate paces status updates; it cannot be combined with --syncs", withSyncs.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckModule_ConsistentBuiltIns_Pass_AndAnInconsistentModuleIsFlagged()
    {
        string good = await PairRouterConfigAsync("\"@alice:test\": [\"@bob:test\"]");
        string bad = Path.Combine(Path.GetTempPath(), $"pg-bad-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(bad, $$"""
            server_name: test
            modules:
              - module: {{typeof(OneWayRouter).FullName}}, {{typeof(OneWayRouter).Assembly.GetName().Name}}
                config:
                  receiver: "@alice:test"
                  sender: "@bob:test"
            """);
        try
        {
            var ok = await Pgrid("check-module", good);
            var flagged = await Pgrid("check-module", bad);

            Assert.Equal(0, ok.Exit);
            Assert.Contains("line up", ok.Output);
            Assert.Equal(1, flagged.Exit);
            Assert.Contains("receiver @alice:test, sender @bob:test", flagged.Output);
        }
        finally
        {
            File.Delete(good);
            File.Delete(bad);
        }
    }
}

/// <summary>A deliberately inconsistent module: routes sender → receiver but never declares the interest.</summary>
public sealed class OneWayRouter
{
    private readonly string _receiver;
    private readonly string _sender;

    public OneWayRouter(IConfiguration config, IModuleApi api)
    {
        _receiver = config["receiver"]!;
        _sender = config["sender"]!;
        api.RegisterPresenceRouterCallbacks(GetUsersForStates, _ => Task.FromResult<InterestedUsers?>(InterestedUsers.None));
    }

    private Task<IReadOnlyDictionary<string, IReadOnlySet<Matrix.UserPresenceState>>?> GetUsersForStates(IReadOnlyList<Matrix.UserPresenceState> states) =>
        Task.FromResult<IReadOnlyDictionary<string, IReadOnlySet<Matrix.UserPresenceState>>?>(new Dictionary<string, IReadOnlySet<Matrix.UserPresenceState>>
        {
            [_receiver] = states.Where(s => s.UserId.ToString() == _sender).ToHashSet(),
        });
}
