using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Text;

namespace PresenceGrid.Runtime.Networking;

/// <summary>
/// The frame format: <c>[u32 LE header length][u32 LE body length][header][body]</c>. The header is
/// <c>kind:u8 | flags:u8 | correlationId:i64 LE | methodId:u32 LE | forwardCount:i32 LE | timeToLiveMs:i32 LE | target:UTF-8 (rest)</c>;
/// flag bit 0 says a target is present (so null and empty differ).
/// </summary>
internal static class FrameCodec
{
    /// <summary>The length prefix: header length and body length.</summary>
    public const int PrefixBytes = 8;

    /// <summary>The header's fixed fields before the target.</summary>
    public const int FixedHeaderBytes = 22;

    /// <summary>Internal kind: liveness probe, answered with <see cref="Pong"/>; never surfaced.</summary>
    public const SiloMessageKind Ping = (SiloMessageKind)0x7E;

    /// <summary>Internal kind: answer to <see cref="Ping"/>; never surfaced.</summary>
    public const SiloMessageKind Pong = (SiloMessageKind)0x7F;

    private const byte HasTargetFlag = 1;

    public static readonly SiloMessage PingMessage = new() { Kind = Ping };

    public static readonly SiloMessage PongMessage = new() { Kind = Pong };

    public static bool IsInternal(SiloMessageKind kind) => kind is Ping or Pong;

    public static int HeaderLength(SiloMessage message) =>
        FixedHeaderBytes + (message.Target is null ? 0 : Encoding.UTF8.GetByteCount(message.Target));

    /// <summary>Writes one frame; returns the bytes written.</summary>
    public static int Write(PipeWriter output, SiloMessage message)
    {
        int headerLength = HeaderLength(message);
        int bodyLength = message.Body.Length;
        int prefixed = PrefixBytes + headerLength;
        var span = output.GetSpan(prefixed);
        BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)headerLength);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], (uint)bodyLength);
        span[8] = (byte)message.Kind;
        span[9] = message.Target is null ? (byte)0 : HasTargetFlag;
        BinaryPrimitives.WriteInt64LittleEndian(span[10..], message.CorrelationId);
        BinaryPrimitives.WriteUInt32LittleEndian(span[18..], message.MethodId);
        BinaryPrimitives.WriteInt32LittleEndian(span[22..], message.ForwardCount);
        BinaryPrimitives.WriteInt32LittleEndian(span[26..], message.TimeToLiveMs);
        if (message.Target is not null)
        {
            Encoding.UTF8.GetBytes(message.Target, span[(PrefixBytes + FixedHeaderBytes)..]);
        }

        output.Advance(prefixed);
        if (bodyLength > 0)
        {
            output.Write(message.Body.Span);
        }

        return prefixed + bodyLength;
    }

    /// <summary>
    /// Reads one frame when the buffer holds all of it. Lengths are checked against the limits before anything is
    /// buffered; a violation throws <see cref="InvalidDataException"/>.
    /// </summary>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, int maxHeaderBytes, int maxBodyBytes, out SiloMessage? message)
    {
        message = null;
        if (buffer.Length < PrefixBytes)
        {
            return false;
        }

        Span<byte> prefix = stackalloc byte[PrefixBytes];
        buffer.Slice(0, PrefixBytes).CopyTo(prefix);
        uint headerLength = BinaryPrimitives.ReadUInt32LittleEndian(prefix);
        uint bodyLength = BinaryPrimitives.ReadUInt32LittleEndian(prefix[4..]);
        if (headerLength < FixedHeaderBytes || headerLength > (uint)maxHeaderBytes)
        {
            throw new InvalidDataException($"Frame header of {headerLength} bytes is outside [{FixedHeaderBytes}, {maxHeaderBytes}].");
        }

        if (bodyLength > (uint)maxBodyBytes)
        {
            throw new InvalidDataException($"Frame body of {bodyLength} bytes exceeds the limit of {maxBodyBytes}.");
        }

        long total = PrefixBytes + (long)headerLength + bodyLength;
        if (buffer.Length < total)
        {
            return false;
        }

        var header = buffer.Slice(PrefixBytes, headerLength);
        message = header.IsSingleSegment
            ? ParseHeader(header.FirstSpan, buffer.Slice(PrefixBytes + headerLength, bodyLength))
            : ParseHeader(header.ToArray(), buffer.Slice(PrefixBytes + headerLength, bodyLength));
        buffer = buffer.Slice(total);
        return true;
    }

    private static SiloMessage ParseHeader(ReadOnlySpan<byte> header, ReadOnlySequence<byte> body)
    {
        var kind = (SiloMessageKind)header[0];
        bool hasTarget = (header[1] & HasTargetFlag) != 0;
        if (IsInternal(kind))
        {
            return kind == Ping ? PingMessage : PongMessage;
        }

        if (kind is < SiloMessageKind.Request or > SiloMessageKind.System)
        {
            throw new InvalidDataException($"Unknown frame kind {(byte)kind}.");
        }

        return new SiloMessage
        {
            Kind = kind,
            CorrelationId = BinaryPrimitives.ReadInt64LittleEndian(header[2..]),
            MethodId = BinaryPrimitives.ReadUInt32LittleEndian(header[10..]),
            ForwardCount = BinaryPrimitives.ReadInt32LittleEndian(header[14..]),
            TimeToLiveMs = BinaryPrimitives.ReadInt32LittleEndian(header[18..]),
            Target = hasTarget ? Encoding.UTF8.GetString(header[FixedHeaderBytes..]) : null,

            // Copied out of the pipe's buffer, which is reused once the reader advances.
            Body = body.Length == 0 ? ReadOnlyMemory<byte>.Empty : body.ToArray(),
        };
    }
}
