using Microsoft.Extensions.Configuration;
using PresenceGrid.Modules;

namespace PresenceGrid.Silo.Tests;

/// <summary>pgrid against a real silo; its output is read from the console (hence no parallel tests here).</summary>
[Collection(nameof(ConsoleCollection))]
public sealed class PgridTests
{
    private static Task<(int Exit, string Output)> Pgrid(params string[] args) => PgridRunner.RunAsync(args);

    [Fact]
    public async Task SetJoinGetSyncExplain_AgainstARunningSilo()
    {
        await using var silo = await RunningSilo.StartAsync();
        string url = $"--url={silo.Address}";

        Assert.Equal(0, (await Pgrid(url, "set", "@a:test", "online", "--status", "from pgrid")).Exit);
        Assert.Equal(0, (await Pgrid(url, "join", "!r:test", "@a:test")).Exit);
        Assert.Equal(0, (await Pgrid(url, "join", "!r:test", "@b:test")).Exit);
        var get = await Pgrid(url, "get", "@a:test", "--requester", "@b:test");
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
        string good = Path.Combine(Path.GetTempPath(), $"pg-good-{Guid.NewGuid():N}.yaml");
        string bad = Path.Combine(Path.GetTempPath(), $"pg-bad-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(good, """
            server_name: test
            modules:
              - module: PresenceGrid.Modules.PairRouter
                config:
                  routes:
                    "@alice:test": ["@bob:test"]
            """);
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
