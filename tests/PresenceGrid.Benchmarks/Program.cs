// dotnet run -c Release --project tests/PresenceGrid.Benchmarks -- fanout [users] [updates] [--router] [--naive=N] [--storage=memory|memory-json|dictionary] [--alloc] [--stay-online] [--hold]
// dotnet run -c Release --project tests/PresenceGrid.Benchmarks -- cluster [silos] [seconds] [inFlight] [--owner]
// dotnet run -c Release --project tests/PresenceGrid.Benchmarks -- ingest URL [batch] [seconds] [concurrency] [users] [server_name] [token]
switch (args.Length > 0 ? args[0] : null)
{
    case "fanout":
        await PresenceGrid.Benchmarks.Presence.FanoutLoad.RunAsync(args);
        break;
    case "cluster":
        await PresenceGrid.Benchmarks.Cluster.ClusterLoad.RunAsync(args);
        break;
    case "ingest":
        await PresenceGrid.Benchmarks.Presence.IngestLoad.RunAsync(args);
        break;
    default:
        Console.Error.WriteLine("usage: fanout [users] [updates] [--router] [--naive=N] [--storage=memory|memory-json|dictionary] [--alloc] [--stay-online] [--hold] | cluster [silos] [seconds] [inFlight] [--owner] | ingest URL [batch] [seconds] [concurrency] [users] [server_name] [token]");
        Environment.ExitCode = 2;
        break;
}
