using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;

namespace PresenceGrid.Benchmarks;

/// <summary>
/// BenchmarkDotNet's defaults plus the memory diagnoser. Choose the job on the command line:
/// <c>--inProcess --job short</c> for recorded figures, <c>--inProcess --job dry</c> for a smoke run.
/// </summary>
public sealed class BenchmarkConfig : ManualConfig
{
    public BenchmarkConfig()
    {
        Add(DefaultConfig.Instance);
        AddDiagnoser(MemoryDiagnoser.Default);
    }
}
