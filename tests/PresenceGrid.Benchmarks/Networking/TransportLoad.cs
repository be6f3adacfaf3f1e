using System.Diagnostics;
using System.Globalization;
using PresenceGrid.Runtime.GrainDirectory;
using PresenceGrid.Runtime.Networking;

namespace PresenceGrid.Benchmarks.Networking;

/// <summary>
/// Round trips over one silo connection, both transports in this process: silo A keeps <c>window</c> requests with
/// 64-byte bodies in flight, silo B answers each with a 64-byte response, and A sends a new request per response.
/// Reports round trips/s (each is two frames).
/// Run: <c>dotnet run -c Release --project tests/PresenceGrid.Benchmarks -- transport [window] [seconds]</c>.
/// </summary>
internal static class TransportLoad
{
    public static async Task RunAsync(string[] args)
    {
        int window = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000;
        int seconds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 5;
        var options = new SiloTransportOptions { ClusterId = "bench", Secret = "benchmark-secret-0123456789" };
        var aHandler = new Handler();
        var bHandler = new Handler();
        await using var a = new KestrelSiloTransport(options);
        await using var b = new KestrelSiloTransport(options);
        var aSilo = new SiloAddress(await a.StartAsync(aHandler, CancellationToken.None), 1);
        var bSilo = new SiloAddress(await b.StartAsync(bHandler, CancellationToken.None), 1);
        a.SetLocalSilo(aSilo);
        b.SetLocalSilo(bSilo);
        bHandler.Transport = b;
        aHandler.Transport = a;
        aHandler.Peer = bSilo;

        byte[] body = new byte[64];
        for (int i = 0; i < window; i++)
        {
            a.Send(bSilo, new SiloMessage { Kind = SiloMessageKind.Request, CorrelationId = i, Target = "bench/1", MethodId = 1, Body = body });
        }

        await Task.Delay(1_000); // warm-up
        long start = Interlocked.Read(ref aHandler.Responses);
        var clock = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        long done = Interlocked.Read(ref aHandler.Responses) - start;
        double elapsed = clock.Elapsed.TotalSeconds;
        aHandler.Stop = true;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"transport: window {window}, 64 B bodies, {elapsed:F1} s: {done / elapsed:N0} round trips/s ({2 * done / elapsed:N0} frames/s); send failures {aHandler.Failures + bHandler.Failures}"));
    }

    private sealed class Handler : ISiloMessageHandler
    {
        public long Responses;
        public long Failures;

        public ISiloTransport? Transport { get; set; }

        public SiloAddress? Peer { get; set; }

        public bool Stop { get; set; }

        public void OnMessage(SiloAddress sender, SiloMessage message)
        {
            if (message.Kind == SiloMessageKind.Request)
            {
                Transport!.Send(sender, new SiloMessage { Kind = SiloMessageKind.Response, CorrelationId = message.CorrelationId, Body = message.Body });
            }
            else if (message.Kind == SiloMessageKind.Response)
            {
                Interlocked.Increment(ref Responses);
                if (!Stop)
                {
                    Transport!.Send(Peer!, new SiloMessage { Kind = SiloMessageKind.Request, CorrelationId = message.CorrelationId, Target = "bench/1", MethodId = 1, Body = message.Body });
                }
            }
        }

        public void OnSendFailed(SiloAddress target, SiloMessage message, Exception exception) => Interlocked.Increment(ref Failures);

        public void OnConnectionClosed(SiloAddress peer)
        {
        }

        public bool IsDead(SiloAddress silo) => false;
    }
}
