using Microsoft.Extensions.Logging;
using PresenceGrid.Cluster.Tests.Infrastructure;

namespace PresenceGrid.Cluster.Tests;

/// <summary>The handshake on a real Orleans cluster (in-process silos, Orleans' connection pipeline).</summary>
public sealed class ClusterSecretClusterTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private readonly TestClusterSettings _settings = new();

    [Fact]
    public async Task TwoSilosAndClient_SameSecret_CallsReachBothSilos_OverHandshakenConnections()
    {
        await using var cluster = _settings.Build(2);
        await cluster.DeployAsync();
        SiloAddress first = cluster.Silos[0].SiloAddress;
        SiloAddress second = cluster.Silos[1].SiloAddress;

        long onSecond = await ClusterProbe.FindGrainOn(cluster.Client, second);
        long onFirst = await ClusterProbe.FindGrainOn(cluster.Client, first);

        Assert.Equal(second, await cluster.Client.GetGrain<IWhereGrain>(onFirst).GetSiloAddressOf(onSecond));
        Assert.Equal(first, await cluster.Client.GetGrain<IWhereGrain>(onSecond).GetSiloAddressOf(onFirst));
        Assert.Equal(2, (await ClusterProbe.ActiveSilos(cluster.Client)).Count);

        // Every connection passed the handshake: silo to silo both ways, and client to gateway.
        var completed = _settings.Logs.WithEventId(5502);
        Assert.Contains(completed, e => e["Role"]?.ToString() == "Initiator");
        Assert.Contains(completed, e => e["Role"]?.ToString() == "Acceptor");
        Assert.True(completed.Count >= 4, $"{completed.Count} handshakes");
        Assert.DoesNotContain(_settings.Logs.Entries, e => e.EventId is 5500 or 5501);
    }

    [Theory]
    [InlineData("a different secret of the tests", HandshakeFailure.WrongProof)]
    [InlineData(null, HandshakeFailure.NotAHandshake)]
    public async Task ClientWithWrongOrNoSecret_CannotConnect_AndTheSiloSaysWhy(string? clientSecret, HandshakeFailure siloSees)
    {
        await using var cluster = _settings.Build(1);
        await cluster.DeployAsync();

        _settings.ClientSecret = clientSecret;
        // A client without the secret has no PresenceGrid.Cluster code: Orleans' own retries would take minutes.
        _settings.ClientRetries = clientSecret is not null;
        var (error, elapsed) = await ClusterProbe.TryStartClient(cluster, Bound);

        Assert.NotNull(error);
        Assert.IsNotType<TimeoutException>(error);
        // Within Orleans' connection-open timeout (5 s): the refusing silo closes at once, and the
        // client does not retry a refusal (Orleans' default would, for minutes).
        Assert.True(elapsed < TimeSpan.FromSeconds(5), $"refused after {elapsed}");
        if (clientSecret is not null)
        {
            var refused = Assert.IsType<ClusterSecretHandshakeException>(error);
            Assert.Equal(HandshakeFailure.ClosedByPeer, refused.Failure);
            Assert.Contains("refused", refused.Message, StringComparison.Ordinal);
            Assert.Contains("check cluster.secret", refused.Message, StringComparison.Ordinal);
        }

        LogEntry line = await _settings.Logs.WaitFor(5500, Bound);
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Equal(siloSees, line["Failure"]);
        Assert.DoesNotContain(_settings.Logs.Entries, e => e.Message.Contains(TestClusterSettings.Secret, StringComparison.Ordinal));
        Assert.DoesNotContain(_settings.Logs.Entries, e => clientSecret is not null && e.Message.Contains(clientSecret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task SiloWithWrongSecret_CannotJoin()
    {
        await using var cluster = _settings.Build(1);
        await cluster.DeployAsync();

        _settings.SiloSecret = "a different secret of the tests";
        Exception? error = await Record.ExceptionAsync(() => cluster.StartAdditionalSiloAsync().WaitAsync(Bound));

        Assert.NotNull(error);
        Assert.IsNotType<TimeoutException>(error);
        Assert.Equal([cluster.Silos[0].SiloAddress], await ClusterProbe.ActiveSilos(cluster.Client));
        Assert.Contains(_settings.Logs.WithEventId(5500), e => Equals(e["Failure"], HandshakeFailure.WrongProof));
    }
}
