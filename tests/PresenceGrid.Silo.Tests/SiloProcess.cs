using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using PresenceGrid.Testing;

namespace PresenceGrid.Silo.Tests;

/// <summary>
/// A silo executable in its own process, member of a cluster on PostgreSQL, serving the API on a free loopback port
/// (which it advertises as its <c>http_endpoint</c>).
/// </summary>
internal sealed class SiloProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _log = new();
    private readonly string _config;

    private SiloProcess(string name, Uri url, Process process, string config)
    {
        Name = name;
        Url = url;
        _process = process;
        _config = config;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Name { get; }

    public Uri Url { get; }

    /// <summary>Starts silo <paramref name="name"/> of cluster <paramref name="clusterId"/> (no rate limit on presence changes).</summary>
    public static SiloProcess Start(string name, string serverName, string postgres, string clusterId, int leaseMs)
    {
        int port = FreePort();
        string config = Path.Combine(Path.GetTempPath(), $"pgrid-{clusterId}-{name}.yaml");
        File.WriteAllText(config, $"""
            server_name: {serverName}
            silo_name: {name}
            rc_presence:
              per_second: 0
            cluster:
              cluster_id: {clusterId}
              postgres: "{postgres}"
              silo_port: 0
              gateway_port: 0
              secret: "multi-process-cluster-secret"
              lease_ms: {leaseMs}
            """);
        string dll = Path.Combine(AppContext.BaseDirectory, "PresenceGrid.Silo.dll");
        var start = new ProcessStartInfo("dotnet", ["exec", dll, "--config", config, "--urls", $"http://127.0.0.1:{port}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        return new SiloProcess(name, new Uri($"http://127.0.0.1:{port}"), Process.Start(start)!, config);
    }

    public async Task WaitHealthyAsync()
    {
        using var http = new HttpClient();
        await Eventually.TrueAsync(
            async () =>
            {
                try
                {
                    using HttpResponseMessage response = await http.GetAsync(new Uri(Url, "/healthz"));
                    return response.IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            },
            $"{Name} to serve /healthz",
            TimeSpan.FromSeconds(60));
    }

    /// <summary>Sends a request to this silo's API and returns the answer's body; a non-2xx answer fails the test.</summary>
    public async Task<string> SendAsync(HttpClient http, HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(Url, path));
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        using HttpResponseMessage response = await http.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{method} {path} on {Name}: {(int)response.StatusCode} {body}");
        return body;
    }

    /// <summary>An unlabelled counter from this silo's <c>/metrics</c> (read as <c>pgrid load</c> reads it); 0 until it was first counted.</summary>
    public async Task<long> MetricAsync(HttpClient http, string name) =>
        (long)PresenceGrid.Cli.SiloMetricNames.Read(await SendAsync(http, HttpMethod.Get, "/metrics"), name);

    /// <summary>kill -9: no shutdown, no goodbye.</summary>
    public void Kill() => _process.Kill(entireProcessTree: false);

    public string LogTail() => string.Join('\n', _log.TakeLast(15));

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }

        _process.Dispose();
        File.Delete(_config);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            _log.Enqueue(line);
        }
    }
}
