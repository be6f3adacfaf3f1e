using BenchmarkDotNet.Running;

// dotnet run -c Release --project tests/PresenceGrid.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(PresenceGrid.Benchmarks.BenchmarkConfig).Assembly).Run(args, new PresenceGrid.Benchmarks.BenchmarkConfig());
