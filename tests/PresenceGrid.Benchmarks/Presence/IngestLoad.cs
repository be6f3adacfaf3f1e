using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;

namespace PresenceGrid.Benchmarks.Presence;

/// <summary>
/// The mirror's throughput into one running silo: <c>POST /v1/ingest/states</c> batches of N Synapse-shaped states, as
/// the Synapse module sends them, each state a change (every user alternates online / unavailable from one round to the
/// next). Reports states/s accepted and the silo's CPU per state (its <c>/metrics</c> <c>dotnet_process_cpu_time</c>).
/// Run the silo with a config of its own (<c>rc_presence.per_second: 0</c> is not needed: the ingest is not rate limited), then
/// <c>dotnet run -c Release --project tests/PresenceGrid.Benchmarks -- ingest URL [batch] [seconds] [concurrency] [users] [server_name] [token]</c>.
/// </summary>
internal static class IngestLoad
{
    public static async Task RunAsync(string[] args)
    {
        Uri silo = new(args.Length > 1 ? args[1] : "http://127.0.0.1:8008");
        int batch = Arg(args, 2, 1000);
        int seconds = Arg(args, 3, 10);
        int concurrency = Arg(args, 4, 4);
        int users = Math.Max(Arg(args, 5, 100_000), batch);
        string server = args.Length > 6 ? args[6] : "localhost";
        string? token = args.Length > 7 ? args[7] : null;
        using var http = new HttpClient { BaseAddress = silo, Timeout = TimeSpan.FromMinutes(2) };
        if (token is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        // Two bodies per slice of users: round r sends parity r % 2, so every state sent is a change.
        string run = Guid.NewGuid().ToString("N")[..6];
        int slices = users / batch;
        long baseTs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        byte[][] bodies = new byte[2 * slices][];
        for (int parity = 0; parity < 2; parity++)
        {
            for (int slice = 0; slice < slices; slice++)
            {
                var body = new StringBuilder(batch * 200).Append("{\"states\":[");
                for (int i = 0; i < batch; i++)
                {
                    int user = slice * batch + i;
                    body.Append(i == 0 ? "" : ",")
                        .Append(CultureInfo.InvariantCulture, $"{{\"user_id\":\"@ingest{run}_{user}:{server}\",\"state\":\"{(parity == 0 ? "online" : "unavailable")}\",")
                        .Append(CultureInfo.InvariantCulture, $"\"last_active_ts\":{baseTs + parity},\"last_federation_update_ts\":{baseTs},\"last_user_sync_ts\":{baseTs},")
                        .Append(CultureInfo.InvariantCulture, $"\"status_msg\":\"mirrored by the benchmark\",\"currently_active\":{(parity == 0 ? "true" : "false")}}}");
                }

                bodies[parity * slices + slice] = Encoding.UTF8.GetBytes(body.Append("]}").ToString());
            }
        }

        Console.WriteLine($"ingest into {silo}: {users:N0} users, batches of {batch:N0} ({bodies[0].Length / 1024:N0} KiB), {concurrency} in flight, {seconds} s");

        // Warm-up, not measured: at least one round (every user's grain activated) and 10 s (the silo's tiered JIT reaches
        // its optimised code; a run measured from a cold silo counts the JIT too, about a fifth less).
        var cursor = new Cursor();
        var warmup = Stopwatch.StartNew();
        await SendAsync(http, bodies, slices, () => Interlocked.Read(ref cursor.Next) < slices || warmup.Elapsed < TimeSpan.FromSeconds(10), concurrency, batch, cursor);

        double cpuBefore = await CpuSecondsAsync(http);
        var stopwatch = Stopwatch.StartNew();
        var deadline = TimeSpan.FromSeconds(seconds);
        long sent = await SendAsync(http, bodies, slices, () => stopwatch.Elapsed < deadline, concurrency, batch, cursor);
        double elapsed = stopwatch.Elapsed.TotalSeconds;
        double cpu = await CpuSecondsAsync(http) - cpuBefore;

        Console.WriteLine($"states: {sent:N0} in {elapsed:F1} s = {sent / elapsed:N0} states/s ({sent / batch / elapsed:N0} requests/s)");
        if (cpu > 0)
        {
            Console.WriteLine($"silo CPU: {cpu:F1} s = {cpu / elapsed:F2} cores; {cpu * 1e6 / sent:F2} µs per state; {sent / cpu:N0} states per silo CPU-second");
        }
    }

    private static int Arg(string[] args, int index, int fallback) =>
        args.Length > index ? int.Parse(args[index], CultureInfo.InvariantCulture) : fallback;

    /// <summary>Sends bodies in round order from <paramref name="cursor"/> while <paramref name="more"/> says so; returns the states accepted.</summary>
    private static async Task<long> SendAsync(HttpClient http, byte[][] bodies, int slices, Func<bool> more, int concurrency, int batch, Cursor cursor)
    {
        long accepted = 0;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            while (more())
            {
                long n = Interlocked.Increment(ref cursor.Next) - 1;
                long round = n / slices;
                byte[] body = bodies[(round % 2) * slices + n % slices];
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using HttpResponseMessage response = await http.PostAsync(new Uri("/v1/ingest/states", UriKind.Relative), content);
                string answer = await response.Content.ReadAsStringAsync();
                if (!response.IsSuccessStatusCode || answer != "{}")
                {
                    throw new InvalidOperationException($"ingest failed: {(int)response.StatusCode} {answer[..Math.Min(answer.Length, 300)]}");
                }

                Interlocked.Add(ref accepted, batch);
            }
        })));
        return accepted;
    }

    /// <summary>The next request's number over the whole run (its round and slice).</summary>
    private sealed class Cursor
    {
        public long Next;
    }

    private static async Task<double> CpuSecondsAsync(HttpClient http)
    {
        string metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        double sum = 0;
        foreach (string line in metrics.Split('\n'))
        {
            if (line.StartsWith("dotnet_process_cpu_time", StringComparison.Ordinal) && !line.StartsWith('#'))
            {
                sum += double.Parse(line.AsSpan(line.LastIndexOf(' ') + 1), CultureInfo.InvariantCulture);
            }
        }

        return sum;
    }
}
