using System.Net;
using System.Net.Sockets;
using Npgsql;
using PresenceGrid.Testing;

namespace PresenceGrid.Silo.Tests;

/// <summary><c>pgrid db migrate</c> and <c>pgrid db status</c> on a private PostgreSQL; output read from the console.</summary>
[Collection(nameof(ConsoleCollection))]
public sealed class PgridDbTests
{
    /// <summary>The schema parts this build ships, in the order pgrid prints them.</summary>
    private static readonly string[] Parts = ["orleans-clustering", "orleans-grain-state"];

    private static Task<(int Exit, string Output, string Error)> Pgrid(params string[] args) => PgridRunner.RunAsync(args);

    private static string[] EachPart(Func<string, string> line) => [.. Parts.Select(line)];

    private static string[] Lines(string output) => output.Trim().Split('\n');

    [Fact]
    public async Task Status_changes_nothing_migrate_applies_then_is_idempotent_and_leaves_a_newer_part_alone()
    {
        await using PostgresServer postgres = await PostgresServer.StartAsync();
        string database = await postgres.CreateDatabaseAsync("pgrid_db");

        var before = await Pgrid("db", "status", "--postgres", database);
        Assert.True(before.Exit == 0, before.Output);
        Assert.Equal(EachPart(part => $"{part}: none recorded, this build ships 1 (not applied)."), Lines(before.Output));
        Assert.False(await ScalarAsync<bool>(database, "SELECT to_regclass('presencegrid_schema') IS NOT NULL"));

        var first = await Pgrid("db", "migrate", "--postgres", database);
        Assert.True(first.Exit == 0, first.Output);
        Assert.Equal(EachPart(part => $"{part}: applied version 1 (none recorded before)."), Lines(first.Output));
        Assert.True(await ScalarAsync<bool>(database, "SELECT to_regclass('orleansmembershiptable') IS NOT NULL"));
        Assert.True(await ScalarAsync<bool>(database, "SELECT to_regclass('presencegrid_grain_state') IS NOT NULL"));

        var second = await Pgrid("db", "migrate", "--postgres", database);
        Assert.True(second.Exit == 0, second.Output);
        Assert.Equal(EachPart(part => $"{part}: already current at version 1."), Lines(second.Output));

        string[] after = Lines((await Pgrid("db", "status", "--postgres", database)).Output);
        Assert.Equal(Parts.Length, after.Length);
        for (int i = 0; i < Parts.Length; i++)
        {
            Assert.Matches($@"^{Parts[i]}: version 1 applied \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\dZ, this build ships 1 \(current\)\.$", after[i]);
        }

        // A newer build recorded version 2 and a part this build does not know: migrate leaves them, status lists them.
        await ScalarAsync<int>(database, "UPDATE presencegrid_schema SET version = 2; INSERT INTO presencegrid_schema (part, version) VALUES ('future-part', 1); SELECT 0");
        var newer = await Pgrid("db", "migrate", "--postgres", database);
        Assert.True(newer.Exit == 0, newer.Output);
        Assert.Equal(EachPart(part => $"{part}: left alone at version 2, newer than this build's 1."), Lines(newer.Output));
        string[] status = Lines((await Pgrid("db", "status", "--postgres", database)).Output);
        Assert.Equal(Parts.Length + 1, status.Length);
        Assert.All(status[..Parts.Length], line => Assert.EndsWith("this build ships 1 (newer than this build).", line, StringComparison.Ordinal));
        Assert.StartsWith("future-part: version 1 applied ", status[^1], StringComparison.Ordinal);
        Assert.EndsWith(", not a part this build knows.", status[^1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("migrate")]
    [InlineData("status")]
    public async Task An_unreachable_database_gives_one_line_naming_it_and_exit_1_without_the_password_or_a_stack_trace(string command)
    {
        int closedPort = ClosedPort();
        var run = await Pgrid("db", command, "--postgres", $"Host=127.0.0.1;Port={closedPort};Database=grid;Username=owner;Password=secret-pw;Timeout=5");

        Assert.Equal(1, run.Exit);
        string line = Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"pgrid db {command}: PostgreSQL at 127.0.0.1:{closedPort}, database grid: ", line, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-pw", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(" at PresenceGrid", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_connection_string_is_a_bad_argument_exit_2()
    {
        var run = await Pgrid("db", "migrate", "--postgres", "not a connection string");

        Assert.Equal(2, run.Exit);
        string line = Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("pgrid db migrate: --postgres is not an Npgsql connection string (", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_postgres_the_command_is_refused_with_one_line()
    {
        var run = await Pgrid("db", "status");

        Assert.NotEqual(0, run.Exit);
        Assert.Contains("--postgres", Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }

    /// <summary>A loopback port nothing listens on: bound, then released.</summary>
    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
