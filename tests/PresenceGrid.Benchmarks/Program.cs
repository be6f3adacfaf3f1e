using BenchmarkDotNet.Running;

// dotnet run -c Release --project tests/PresenceGrid.Benchmarks -- --filter '*' --inProcess --job short
// dotnet run -c Release --project tests/PresenceGrid.Benchmarks -- fanout [users] [updates]
if (args.Length > 0 && args[0] == "fanout")
{
    await PresenceGrid.Benchmarks.Presence.FanoutLoad.RunAsync(args);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(PresenceGrid.Benchmarks.BenchmarkConfig).Assembly).Run(args, new PresenceGrid.Benchmarks.BenchmarkConfig());
