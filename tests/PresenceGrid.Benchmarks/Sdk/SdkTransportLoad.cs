using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using PresenceGrid.Client;

namespace PresenceGrid.Benchmarks.Sdk;

/// <summary>
/// The .NET SDK's two transports against one running embedded silo, alternated round by round: a closed loop of
/// <c>SetPresenceAsync</c> calls (each a change: users alternate online and unavailable) through the HTTP client, then
/// through the Orleans client (the silo's gateway). Reports updates/s and the silo process's CPU per update
/// (<c>/proc/PID/stat</c>, so run it on the silo's machine).
/// Run: <c>dotnet run -c Release --project tests/PresenceGrid.Benchmarks -- sdk HTTP_URL GATEWAY_PORT SILO_PID [seconds] [concurrency] [rounds] [server_name]</c>
/// (the silo with <c>gateway_port: GATEWAY_PORT</c> and <c>rc_presence: {per_second: 0}</c>).
/// </summary>
internal static class SdkTransportLoad
{
    public static async Task RunAsync(string[] args)
    {
        if (args.Length < 4)
        {
            throw new ArgumentException("usage: sdk HTTP_URL GATEWAY_PORT SILO_PID [seconds] [concurrency] [rounds] [server_name]");
        }

        var url = new Uri(args[1]);
        int gatewayPort = int.Parse(args[2], CultureInfo.InvariantCulture);
        int siloPid = int.Parse(args[3], CultureInfo.InvariantCulture);
        int seconds = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 10;
        int concurrency = args.Length > 5 ? int.Parse(args[5], CultureInfo.InvariantCulture) : 32;
        int rounds = args.Length > 6 ? int.Parse(args[6], CultureInfo.InvariantCulture) : 3;
        string server = args.Length > 7 ? args[7] : "localhost";

        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleansClient(client => client
            .UseStaticClustering(new IPEndPoint(IPAddress.Loopback, gatewayPort))
            .Configure<ClusterOptions>(o =>
            {
                o.ClusterId = "embedded";
                o.ServiceId = "presencegrid";
            }));
        builder.Services.AddPresenceGridOrleansClient();
        using IHost host = builder.Build();
        await host.StartAsync();
        IPresenceGridClient orleans = host.Services.GetRequiredService<IPresenceGridClient>();
        using var http = new PresenceGridClient(new PresenceGridClientOptions { Endpoints = { url } });

        for (int round = 1; round <= rounds; round++)
        {
            await RoundAsync("http", http, round);
            await RoundAsync("orleans", orleans, round);
        }

        await host.StopAsync();

        async Task RoundAsync(string name, IPresenceGridClient client, int round)
        {
            // Each worker's 100 users, first set online once (grains activated, connections open), then changed in turn.
            await Task.WhenAll(Enumerable.Range(0, concurrency * 100).Select(u => client.SetPresenceAsync(UserId(name, u), PresenceState.Online)));
            long updates = 0;
            long stopAt = Stopwatch.GetTimestamp() + (seconds * Stopwatch.Frequency);
            long cpuBefore = SiloCpuTicks(siloPid);
            var stopwatch = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async worker =>
            {
                for (int i = 0; Stopwatch.GetTimestamp() < stopAt; i++)
                {
                    PresenceState presence = (i / 100 % 2) == 0 ? PresenceState.Unavailable : PresenceState.Online;
                    await client.SetPresenceAsync(UserId(name, (worker * 100) + (i % 100)), presence);
                    Interlocked.Increment(ref updates);
                }
            }));
            double elapsed = stopwatch.Elapsed.TotalSeconds;
            double cpu = (SiloCpuTicks(siloPid) - cpuBefore) / 100.0; // USER_HZ
            Console.WriteLine($"{name,-8} round {round}: {updates / elapsed,8:N0} updates/s; silo CPU {cpu * 1e6 / updates,6:F1} µs per update, {cpu / elapsed:F2} cores ({updates:N0} updates in {elapsed:F1} s, {concurrency} in flight)");
        }

        string UserId(string transport, int user) => $"@{transport}{user}:{server}";
    }

    /// <summary>utime + stime of the process, in clock ticks.</summary>
    private static long SiloCpuTicks(int pid)
    {
        string[] fields = File.ReadAllText($"/proc/{pid}/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }
}
