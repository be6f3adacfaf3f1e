using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.RegularExpressions;

namespace PresenceGrid.Silo.Tests;

/// <summary>The silo executable as a process, with a config file, talked to over HTTP, stopped with SIGTERM.</summary>
public sealed partial class SiloProcessTests
{
    [Fact]
    public async Task SiloExecutable_StartsFromConfig_ServesTheApi_AndStopsGracefullyOnSigterm()
    {
        string file = Path.Combine(Path.GetTempPath(), $"pg-proc-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, "server_name: proc.test\nrc_presence:\n  per_second: 0\n");
        string dll = Path.Combine(AppContext.BaseDirectory, "PresenceGrid.Silo.dll");
        var start = new ProcessStartInfo("dotnet", ["exec", dll, "--config", file, "--urls", "http://127.0.0.1:0"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process process = Process.Start(start)!;
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var listening = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            output.Enqueue(e.Data);
            Match match = ListeningLine().Match(e.Data);
            if (match.Success)
            {
                listening.TrySetResult(match.Groups[1].Value);
            }
        };
        process.BeginOutputReadLine();
        try
        {
            string url = await listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
            using var http = new HttpClient { BaseAddress = new Uri(url) };
            Assert.Equal("ok", (await http.GetFromJsonAsync<Dictionary<string, string>>("/healthz"))!["status"]);
            string user = Uri.EscapeDataString("@p:proc.test");
            using var put = await http.PutAsync($"/v1/presence/{user}/status", new StringContent("""{"presence":"online"}"""));
            Assert.Equal(200, (int)put.StatusCode);
            string get = await http.GetStringAsync($"/v1/presence/{user}/status?requester={user}");
            Assert.Contains("\"presence\":\"online\"", get);

            using (Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!)
            {
            }

            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(0, process.ExitCode);
            Assert.Contains(output, line => line.Contains("Silo embedded stopped", StringComparison.Ordinal) || line.Contains("stopped;", StringComparison.Ordinal));

            // It binds where --urls asks without claiming to override it, and its hint names this silo's server_name.
            Assert.DoesNotContain(output, line => line.Contains("Overriding address", StringComparison.Ordinal));
            Assert.Contains(output, line => line.Contains($"curl -X PUT '{url}/v1/presence/@alice:proc.test/status'", StringComparison.Ordinal));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            File.Delete(file);
        }
    }

    [Fact]
    public async Task SiloExecutable_BadConfig_ExitsNonZero_NamingFileAndKey()
    {
        string file = Path.Combine(Path.GetTempPath(), $"pg-bad-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, "server_name: test\npresence:\n  enabled: sometimes\n");
        string dll = Path.Combine(AppContext.BaseDirectory, "PresenceGrid.Silo.dll");
        var start = new ProcessStartInfo("dotnet", ["exec", dll, "--config", file]) { RedirectStandardError = true, RedirectStandardOutput = true };
        using Process process = Process.Start(start)!;
        string error = await process.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        File.Delete(file);

        Assert.Equal(2, process.ExitCode);
        Assert.Contains(file, error);
        Assert.Contains("presence.enabled", error);
    }

    [GeneratedRegex(@"listening on (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningLine();
}
