using System.Text.Json;
using Npgsql;
using PresenceGrid.Persistence;
using PresenceGrid.Runtime.Persistence;
using PresenceGrid.Testing;

namespace PresenceGrid.Runtime.Postgres.Tests;

/// <summary>One private PostgreSQL server for the whole assembly; every test uses its own cluster id (schema).</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private PostgresServer? _server;

    public PostgresServer Server => _server ?? throw new InvalidOperationException("The server is not started.");

    public async Task InitializeAsync() => _server = await PostgresServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    internal PostgresCluster NewCluster(string? clusterId = null, Action<PostgresClusterOptions>? configure = null)
    {
        var options = new PostgresClusterOptions
        {
            ConnectionString = Server.ConnectionString,
            ClusterId = clusterId ?? Server.NewClusterId(),
        };
        configure?.Invoke(options);
        return new PostgresCluster(options, new TestSerializer());
    }

    internal async Task<PostgresCluster> StartClusterAsync(string? clusterId = null, Action<PostgresClusterOptions>? configure = null)
    {
        PostgresCluster cluster = NewCluster(clusterId, configure);
        await cluster.InitializeAsync(CancellationToken.None);
        return cluster;
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres";
}

internal sealed class TestSerializer : IGrainStateSerializer
{
    public byte[] Serialize<TState>(TState state) => JsonSerializer.SerializeToUtf8Bytes(state);

    public TState Deserialize<TState>(ReadOnlySpan<byte> data) => JsonSerializer.Deserialize<TState>(data)!;
}

internal sealed class TestGrainState<T> : IGrainState<T>
{
    public TestGrainState(T state, Guid activationId = default)
    {
        State = state;
        ActivationId = activationId;
    }

    public T State { get; set; }

    public string? ETag { get; set; }

    public bool RecordExists { get; set; }

    public Guid ActivationId { get; set; }
}

internal sealed record Counter(int Value, string Text = "");

internal static class Db
{
    /// <summary>Runs one statement through the cluster's retrying runner (pooled connections may be stale after a restart).</summary>
    public static Task<T> ScalarAsync<T>(PostgresCluster cluster, string sql) =>
        cluster.RunAsync(
            "test query",
            async (connection, ct) =>
            {
                await using var command = new NpgsqlCommand(sql, connection);
                return (T)(await command.ExecuteScalarAsync(ct))!;
            },
            CancellationToken.None);
}
