// dotnet run -c Release --project tests/PresenceGrid.Benchmarks -- fanout [users] [updates] [--router] [--naive=N] [--storage=memory|memory-json|dictionary] [--alloc] [--stay-online] [--hold]
// dotnet run -c Release --project tests/PresenceGrid.Benchmarks -- cluster [silos] [seconds] [inFlight] [--owner]
// dotnet run -c Release --project tests/PresenceGrid.Benchmarks -- ingest URL [batch] [seconds] [concurrency] [users] [server_name] [token]
// dotnet run -c Release --project tests/PresenceGrid.Benchmarks -- sdk HTTP_URL GATEWAY_PORT SILO_PID [seconds] [concurrency] [rounds] [server_name]
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
    case "sdk":
        await PresenceGrid.Benchmarks.Sdk.SdkTransportLoad.RunAsync(args);
        break;
    default:
        Console.Error.WriteLine("usage: fanout [users] [updates] [--router] [--naive=N] [--storage=memory|memory-json|dictionary] [--alloc] [--stay-online] [--hold] | cluster [silos] [seconds] [inFlight] [--owner] | ingest URL [batch] [seconds] [concurrency] [users] [server_name] [token] | sdk HTTP_URL GATEWAY_PORT SILO_PID [seconds] [concurrency] [rounds] [server_name]");
        Environment.ExitCode = 2;
        break;
}
