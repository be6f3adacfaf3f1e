using BenchmarkDotNet.Running;

// dotnet run -c Release --project tests/PresenceGrid.Benchmarks -- --filter '*' --inProcess --job short
// dotnet run -c Release --project tests/PresenceGrid.Benchmarks -- fanout [users] [updates]
// dotnet run -c Release --project tests/PresenceGrid.Benchmarks -- transport [window] [seconds]
// dotnet run -c Release --project tests/PresenceGrid.Benchmarks -- cluster [silos] [seconds] [inFlight]
// dotnet run -c Release --project tests/PresenceGrid.Benchmarks -- ingest URL [batch] [seconds] [concurrency] [users] [server_name] [token]
if (args.Length > 0 && args[0] == "transport")
{
    await PresenceGrid.Benchmarks.Networking.TransportLoad.RunAsync(args);
    return;
}

if (args.Length > 0 && args[0] == "cluster")
{
    await PresenceGrid.Benchmarks.Cluster.ClusterLoad.RunAsync(args);
    return;
}

if (args.Length > 0 && args[0] == "ingest")
{
    await PresenceGrid.Benchmarks.Presence.IngestLoad.RunAsync(args);
    return;
}

if (args.Length > 0 && args[0] == "fanout")
{
    await PresenceGrid.Benchmarks.Presence.FanoutLoad.RunAsync(args);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(PresenceGrid.Benchmarks.BenchmarkConfig).Assembly).Run(args, new PresenceGrid.Benchmarks.BenchmarkConfig());
