using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using PresenceGrid.Cluster.Handshake;
using PresenceGrid.Cluster.Tests.Infrastructure;

namespace PresenceGrid.Cluster.Tests;

/// <summary>The handshake middleware on two in-memory pipes: protocol, refusals, deadline, wire format.</summary>
public sealed class ClusterSecretHandshakeTests
{
    private const string Secret = "correct horse battery staple";
    private const string ClusterId = "presencegrid-test";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private readonly LogCollector _logs = new();

    [Fact]
    public async Task SameSecret_BothSidesPassTheConnectionOn_WithTheBytesThatFollowIntact()
    {
        var (initiator, acceptor) = PipePair.Create();
        byte[] preamble = "orleans preamble"u8.ToArray();

        Task initiatorSide = Handshake(HandshakeRole.Initiator, Secret).OnConnectionAsync(initiator, async context =>
            await context.Transport.Output.WriteAsync(preamble));
        var received = new TaskCompletionSource<byte[]>();
        Task acceptorSide = Handshake(HandshakeRole.Acceptor, Secret).OnConnectionAsync(acceptor, async context =>
        {
            var result = await context.Transport.Input.ReadAtLeastAsync(preamble.Length);
            received.SetResult(result.Buffer.Slice(0, preamble.Length).ToArray());
            context.Transport.Input.AdvanceTo(result.Buffer.GetPosition(preamble.Length));
        });

        await Task.WhenAll(initiatorSide, acceptorSide).WaitAsync(Bound);
        Assert.Equal(preamble, await received.Task);
        Assert.Equal(2, _logs.WithEventId(5502).Count);
        Assert.DoesNotContain(_logs.Entries, e => e.Level >= LogLevel.Warning);
    }

    [Theory]
    [InlineData("another secret, also long", ClusterId)]
    [InlineData(Secret, "another-cluster")]
    public async Task WrongSecretOrCluster_AcceptorRefusesBeforeProving_AndLogsWithoutTheSecret(string initiatorSecret, string initiatorCluster)
    {
        var (initiator, acceptor) = PipePair.Create();
        var initiatorSide = Handshake(HandshakeRole.Initiator, initiatorSecret, initiatorCluster).OnConnectionAsync(initiator, Unreachable);
        var acceptorSide = Handshake(HandshakeRole.Acceptor, Secret).OnConnectionAsync(acceptor, Unreachable);

        var refused = await Assert.ThrowsAsync<ClusterSecretHandshakeException>(() => acceptorSide.WaitAsync(Bound));
        Assert.Equal(HandshakeFailure.WrongProof, refused.Failure);
        Close(acceptor);
        var gaveUp = await Assert.ThrowsAsync<ClusterSecretHandshakeException>(() => initiatorSide.WaitAsync(Bound));
        Assert.Equal(HandshakeFailure.ClosedByPeer, gaveUp.Failure);

        LogEntry line = Assert.Single(_logs.WithEventId(5500));
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Equal(HandshakeFailure.WrongProof, line["Failure"]);
        Assert.Single(_logs.WithEventId(5501));
        Assert.All(_logs.Entries, e => Assert.DoesNotContain("horse", e.Message, StringComparison.Ordinal));
        Assert.All(_logs.Entries, e => Assert.DoesNotContain("also long", e.Message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task PeerWithoutTheHandshake_IsRefusedAtItsFirstBytes()
    {
        var (initiator, acceptor) = PipePair.Create();
        var acceptorSide = Handshake(HandshakeRole.Acceptor, Secret).OnConnectionAsync(acceptor, Unreachable);

        // What an Orleans peer without the middleware sends first: its preamble (length-prefixed).
        await initiator.Transport.Output.WriteAsync(new byte[] { 0x2A, 0, 0, 0, 1, 2, 3, 4, 5, 6 });

        var refused = await Assert.ThrowsAsync<ClusterSecretHandshakeException>(() => acceptorSide.WaitAsync(Bound));
        Assert.Equal(HandshakeFailure.NotAHandshake, refused.Failure);
        Assert.Contains("no cluster.secret", refused.Message, StringComparison.Ordinal);
        Assert.Equal(HandshakeFailure.NotAHandshake, Assert.Single(_logs.WithEventId(5500))["Failure"]);
    }

    [Fact]
    public async Task SilentPeer_IsRefusedAtTheDeadline()
    {
        var clock = new FakeTimeProvider();
        var (_, acceptor) = PipePair.Create();
        var acceptorSide = Handshake(HandshakeRole.Acceptor, Secret, ClusterId, clock).OnConnectionAsync(acceptor, Unreachable);

        clock.Advance(Timeout - TimeSpan.FromMilliseconds(1));
        Assert.False(acceptorSide.IsCompleted);
        clock.Advance(TimeSpan.FromMilliseconds(1));

        var refused = await Assert.ThrowsAsync<ClusterSecretHandshakeException>(() => acceptorSide.WaitAsync(Bound));
        Assert.Equal(HandshakeFailure.Timeout, refused.Failure);
        Assert.Contains("within 5000 ms", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Initiator_SendsHelloThenTheDocumentedProof_AndNeverTheSecret()
    {
        var (initiator, acceptor) = PipePair.Create();
        var initiatorSide = Handshake(HandshakeRole.Initiator, Secret).OnConnectionAsync(initiator, Unreachable);

        byte[] acceptorNonce = RandomNumberGenerator.GetBytes(32);
        await acceptor.Transport.Output.WriteAsync((byte[])[.. "PGCS"u8, 1, .. acceptorNonce]);
        var result = await acceptor.Transport.Input.ReadAtLeastAsync(37 + 32).AsTask().WaitAsync(Bound);
        byte[] wire = result.Buffer.ToArray();

        Assert.Equal(37 + 32, wire.Length);
        Assert.Equal("PGCS"u8.ToArray(), wire[..4]);
        Assert.Equal(1, wire[4]);
        byte[] initiatorNonce = wire[5..37];
        byte[] key = HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(Secret), 32,
            Encoding.ASCII.GetBytes("PresenceGrid cluster-secret handshake v1"), Encoding.UTF8.GetBytes(ClusterId));
        byte[] expectedProof = HMACSHA256.HashData(key, (byte[])[1, .. initiatorNonce, .. acceptorNonce]);
        Assert.Equal(expectedProof, wire[37..]);
        Assert.Equal(-1, wire.AsSpan().IndexOf(Encoding.UTF8.GetBytes(Secret)));

        Close(acceptor);
        await Assert.ThrowsAsync<ClusterSecretHandshakeException>(() => initiatorSide.WaitAsync(Bound));
    }

    [Theory]
    [InlineData("")]
    [InlineData("fifteen chars!!")]
    public void ShortSecret_IsRejectedNamingTheKey(string secret)
    {
        Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true }).UseOrleans(silo =>
        {
            var error = Assert.Throws<ArgumentException>(() => silo.UseClusterSecret(secret));
            Assert.Contains("cluster.secret must be at least 16 characters", error.Message, StringComparison.Ordinal);
        });
        Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true }).UseOrleansClient(client =>
            Assert.Throws<ArgumentException>(() => client.UseClusterSecret(secret)));
    }

    private ClusterSecretHandshake Handshake(HandshakeRole role, string secret, string clusterId = ClusterId, TimeProvider? clock = null) =>
        new(role, new ClusterSecretProof(secret, clusterId), Timeout, clock ?? TimeProvider.System, _logs.CreateLogger("handshake"));

    private static Task Unreachable(ConnectionContext context) =>
        throw new InvalidOperationException("A refused connection must not reach the rest of the chain.");

    private static void Close(ConnectionContext side)
    {
        side.Transport.Output.Complete();
        side.Transport.Input.Complete();
    }
}
