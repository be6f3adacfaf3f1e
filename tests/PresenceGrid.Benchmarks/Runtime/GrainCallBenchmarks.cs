using Microsoft.Extensions.DependencyInjection;
using BenchmarkDotNet.Attributes;
using PresenceGrid.Benchmarks.Runtime;
using PresenceGrid.Testing;

namespace PresenceGrid.Benchmarks;

/// <summary>Grain call costs on one silo: round trips, one-way throughput, stateless workers.</summary>
[BenchmarkCategory("Runtime")]
public class GrainCallBenchmarks
{
    private const int CallsPerInvoke = 10_000;
    private const int OneWayGrains = 64;
    private const int OneWayPerGrain = 4_000;

    private InProcessSilo _silo = null!;
    private IEchoGrain _caller = null!;
    private IEchoGrain _echo = null!;
    private IRouterWorkerGrain _worker = null!;
    private IEchoGrain[] _sinks = [];
    private int _oneWayRounds;

    [GlobalSetup]
    public void Setup()
    {
        _silo = InProcessSilo.StartAsync(silo => silo.AddMemoryGrainStorage()).GetAwaiter().GetResult();
        _caller = _silo.GrainFactory.GetGrain<IEchoGrain>("caller");
        _echo = _silo.GrainFactory.GetGrain<IEchoGrain>("echo");
        _worker = _silo.GrainFactory.GetGrain<IRouterWorkerGrain>("router");
        _sinks = Enumerable.Range(0, OneWayGrains).Select(i => _silo.GrainFactory.GetGrain<IEchoGrain>($"sink-{i}")).ToArray();
        _caller.PingPeer("echo", 10).GetAwaiter().GetResult();
        foreach (IEchoGrain sink in _sinks)
        {
            sink.Ticks().GetAwaiter().GetResult();
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _silo.DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Grain-to-grain request/response round trip (one grain awaits another, in sequence).</summary>
    [Benchmark(OperationsPerInvoke = CallsPerInvoke)]
    public Task<int> GrainToGrainRoundTrip() => _caller.PingPeer("echo", CallsPerInvoke);

    /// <summary>Grain-to-grain round trip of a method with no result (the callee allocates nothing).</summary>
    [Benchmark(OperationsPerInvoke = CallsPerInvoke)]
    public Task GrainToGrainRoundTripNoResult() => _caller.PingPeerVoid("echo", CallsPerInvoke);

    /// <summary>Client-to-grain round trip from outside any grain.</summary>
    [Benchmark(OperationsPerInvoke = CallsPerInvoke)]
    public async Task<int> ClientToGrainRoundTrip()
    {
        int sum = 0;
        for (int i = 0; i < CallsPerInvoke; i++)
        {
            sum += await _echo.Echo(i);
        }

        return sum;
    }

    /// <summary>Calls into a stateless worker from outside any grain.</summary>
    [Benchmark(OperationsPerInvoke = CallsPerInvoke)]
    public async Task<int> StatelessWorkerCall()
    {
        int sum = 0;
        for (int i = 0; i < CallsPerInvoke; i++)
        {
            sum += await _worker.Route(i);
        }

        return sum;
    }

    /// <summary>One-way messages to 64 grains; the time until all were processed.</summary>
    [Benchmark(OperationsPerInvoke = OneWayGrains * OneWayPerGrain)]
    public async Task OneWayThroughput()
    {
        _oneWayRounds++;
        for (int i = 0; i < OneWayPerGrain; i++)
        {
            foreach (IEchoGrain sink in _sinks)
            {
                _ = sink.Tick();
            }
        }

        int expected = _oneWayRounds * OneWayPerGrain;
        foreach (IEchoGrain sink in _sinks)
        {
            await sink.WaitForTicks(expected);
        }
    }
}
