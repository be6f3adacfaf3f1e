using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace PresenceGrid.Cluster.Handshake;

/// <summary>
/// Connection middleware that runs the cluster-secret handshake before anything else on the
/// connection (before Orleans' own preamble, which runs at the end of the middleware chain), and
/// passes the connection on only when both sides proved the secret.
/// </summary>
/// <remarks>
/// Messages, in order (each side writes its hello at once, so the exchange is two round trips):
/// <list type="number">
/// <item>both sides: hello = magic <c>PGCS</c>, version 1, a fresh 32-byte nonce;</item>
/// <item>initiator → acceptor: proof = HMAC-SHA256(key, 0x01 ‖ initiator nonce ‖ acceptor nonce);</item>
/// <item>acceptor checks it, then → initiator: proof = HMAC-SHA256(key, 0x02 ‖ initiator nonce ‖ acceptor nonce);</item>
/// <item>the initiator checks it.</item>
/// </list>
/// The key is derived from the secret and the cluster id (<see cref="ClusterSecretProof"/>). The
/// acceptor proves nothing until the initiator has, so a scanner learns only a random nonce. A
/// deadline bounds the whole exchange: a silent peer cannot hold the connection.
/// </remarks>
internal sealed class ClusterSecretHandshake
{
    private const byte Version = 1;
    private static readonly byte[] Magic = "PGCS"u8.ToArray();
    private static readonly int HeaderSize = Magic.Length + 1;

    private readonly HandshakeRole _role;
    private readonly ClusterSecretProof _proof;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    /// <summary>Creates the middleware for one side of a kind of connection.</summary>
    /// <param name="role">Whether this side opens (initiator) or accepts (acceptor) the connections.</param>
    /// <param name="proof">The key material.</param>
    /// <param name="timeout">The deadline for the whole handshake.</param>
    /// <param name="timeProvider">The clock of the deadline.</param>
    /// <param name="logger">Where refusals are logged.</param>
    public ClusterSecretHandshake(HandshakeRole role, ClusterSecretProof proof, TimeSpan timeout, TimeProvider timeProvider, ILogger logger)
    {
        _role = role;
        _proof = proof;
        _timeout = timeout;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    /// <summary>Runs the handshake, then <paramref name="next"/>; throws <see cref="ClusterSecretHandshakeException"/> on refusal.</summary>
    /// <param name="context">The connection.</param>
    /// <param name="next">The rest of the chain (ending in Orleans' preamble and message loop).</param>
    /// <returns>The connection's processing.</returns>
    public async Task OnConnectionAsync(ConnectionContext context, ConnectionDelegate next)
    {
        long started = _timeProvider.GetTimestamp();
        using (var deadline = new CancellationTokenSource(_timeout, _timeProvider))
        {
            HandshakeFailure? failure;
            try
            {
                failure = await ExchangeAsync(context.Transport, deadline.Token);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                failure = HandshakeFailure.Timeout;
            }
            catch (IOException)
            {
                // A reset by the peer. (A ConnectionAbortedException is this side's own abort,
                // e.g. Orleans' connection-open timeout: it is not a refusal and propagates.)
                failure = HandshakeFailure.ClosedByPeer;
            }

            if (failure is { } refused)
            {
                ClusterSecretHandshakeException refusal = Refuse(context, refused);

                // Close this side at once, so the peer learns of the refusal now rather than at
                // its own deadline (the exception alone leaves the transport to Orleans' teardown).
                await context.Transport.Output.CompleteAsync();
                throw refusal;
            }
        }

        ClusterSecretLog.HandshakeCompleted(_logger, _role, context.RemoteEndPoint, _timeProvider.GetElapsedTime(started).TotalMilliseconds);
        await next(context);
    }

    private async Task<HandshakeFailure?> ExchangeAsync(IDuplexPipe transport, CancellationToken cancellationToken)
    {
        byte[] localNonce = ClusterSecretProof.NewNonce();
        await WriteAsync(transport.Output, [.. Magic, Version, .. localNonce], cancellationToken);

        byte[]? header = await ReadExactlyAsync(transport.Input, HeaderSize, cancellationToken);
        if (header is null)
        {
            return HandshakeFailure.ClosedByPeer;
        }

        if (!header.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            return HandshakeFailure.NotAHandshake;
        }

        if (header[^1] != Version)
        {
            return HandshakeFailure.UnsupportedVersion;
        }

        byte[]? remoteNonce = await ReadExactlyAsync(transport.Input, ClusterSecretProof.Size, cancellationToken);
        if (remoteNonce is null)
        {
            return HandshakeFailure.ClosedByPeer;
        }

        bool initiator = _role == HandshakeRole.Initiator;
        byte[] initiatorNonce = initiator ? localNonce : remoteNonce;
        byte[] acceptorNonce = initiator ? remoteNonce : localNonce;
        HandshakeRole peerRole = initiator ? HandshakeRole.Acceptor : HandshakeRole.Initiator;

        if (initiator)
        {
            await WriteAsync(transport.Output, _proof.Compute(_role, initiatorNonce, acceptorNonce), cancellationToken);
        }

        byte[]? peerProof = await ReadExactlyAsync(transport.Input, ClusterSecretProof.Size, cancellationToken);
        if (peerProof is null)
        {
            return HandshakeFailure.ClosedByPeer;
        }

        if (!_proof.Verify(peerRole, initiatorNonce, acceptorNonce, peerProof))
        {
            return HandshakeFailure.WrongProof;
        }

        if (!initiator)
        {
            await WriteAsync(transport.Output, _proof.Compute(_role, initiatorNonce, acceptorNonce), cancellationToken);
        }

        return null;
    }

    private ClusterSecretHandshakeException Refuse(ConnectionContext context, HandshakeFailure failure)
    {
        string reason = Describe(failure);
        if (_role == HandshakeRole.Acceptor)
        {
            ClusterSecretLog.InboundRefused(_logger, context.RemoteEndPoint, context.ConnectionId, failure, reason);
        }
        else
        {
            ClusterSecretLog.OutboundRefused(_logger, context.RemoteEndPoint, context.ConnectionId, failure, reason);
        }

        string direction = _role == HandshakeRole.Acceptor ? "from" : "to";
        return new ClusterSecretHandshakeException(
            failure,
            $"Cluster-secret handshake {direction} {context.RemoteEndPoint?.ToString() ?? "an unknown peer"} refused: {reason}");
    }

    private string Describe(HandshakeFailure failure) => failure switch
    {
        HandshakeFailure.NotAHandshake => "the peer did not start the handshake (it has no cluster.secret configured, or is not a PresenceGrid peer)",
        HandshakeFailure.UnsupportedVersion => "the peer speaks another version of the handshake",
        HandshakeFailure.WrongProof => "the peer's proof is wrong (another cluster.secret, or another cluster id)",
        HandshakeFailure.ClosedByPeer => "the peer closed the connection during the handshake (it refused this side's secret, has none configured, or expects TLS)",
        HandshakeFailure.Timeout => $"the peer did not complete the handshake within {_timeout.TotalMilliseconds:0} ms",
        _ => throw new UnreachableException(),
    };

    private static async Task WriteAsync(PipeWriter output, byte[] bytes, CancellationToken cancellationToken)
    {
        await output.WriteAsync(bytes, cancellationToken);
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes, leaving what follows in the pipe; null if the peer closed first.</summary>
    private static async Task<byte[]?> ReadExactlyAsync(PipeReader input, int count, CancellationToken cancellationToken)
    {
        ReadResult result = await input.ReadAtLeastAsync(count, cancellationToken);
        ReadOnlySequence<byte> buffer = result.Buffer;
        if (buffer.Length < count)
        {
            input.AdvanceTo(buffer.Start, buffer.End);
            return null;
        }

        byte[] bytes = buffer.Slice(0, count).ToArray();
        input.AdvanceTo(buffer.GetPosition(count));
        return bytes;
    }
}
