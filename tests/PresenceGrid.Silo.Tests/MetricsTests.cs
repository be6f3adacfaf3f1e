using System.Diagnostics.Metrics;
using PresenceGrid.Cli;

namespace PresenceGrid.Silo.Tests;

/// <summary>The silo's <c>/metrics</c> (OpenTelemetry's Prometheus exporter) and the load generator's latency histogram.</summary>
public sealed class MetricsTests
{
    [Fact]
    public async Task Metrics_ServeTheGridsOrleansAndRuntimeSeries_InPrometheusText_UnderTheNamesPgridLoadReads()
    {
        await using RunningSilo silo = await RunningSilo.StartAsync();
        string prefix = "t" + Guid.NewGuid().ToString("N")[..8];
        using var grid = new Meter($"PresenceGrid.MetricsTests.{prefix}");
        using var other = new Meter($"Other.MetricsTests.{prefix}");
        grid.CreateCounter<long>($"{prefix}.things", "{thing}").Add(5);
        other.CreateCounter<long>($"{prefix}.outside").Add(1);

        // @bob shares a room with @alice, so her change reaches him through the room (presencegrid_presence_room_recipients).
        foreach (string member in new[] { "@alice:test", "@bob:test" })
        {
            await silo.SendAsync(HttpMethod.Put, $"/v1/rooms/{Uri.EscapeDataString("!metrics:test")}/members/{Uri.EscapeDataString(member)}", """{"membership":"join"}""");
        }

        await silo.SendAsync(HttpMethod.Put, $"/v1/presence/{Uri.EscapeDataString("@alice:test")}/status", """{"presence":"online"}""");
        string text = await silo.Http.GetStringAsync("/metrics");
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while ((SiloMetricNames.Read(text, SiloMetricNames.RoomRecipients) < 2 || SiloMetricNames.Read(text, "presencegrid_presence_change_to_delivery_seconds_count") == 0)
            && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
            text = await silo.Http.GetStringAsync("/metrics");
        }

        // The grid's meters: counters end in _total, histograms have buckets (in seconds, bounds made for presence latencies).
        Assert.Contains($"# TYPE {SiloMetricNames.Deliveries} counter\n", text);
        Assert.Contains($"# TYPE {SiloMetricNames.RoomRecipients} counter\n", text);

        // At least: silos of other tests in this process count into the same meters.
        Assert.True(SiloMetricNames.Read(text, SiloMetricNames.RoomRecipients) >= 2, text);
        Assert.True(SiloMetricNames.Read(text, "presencegrid_presence_updates_total") >= 1, text);
        Assert.Contains("# TYPE presencegrid_presence_change_to_delivery_seconds histogram\n", text);
        Assert.Contains("presencegrid_presence_change_to_delivery_seconds_bucket{le=\"0.0005\"} ", text);
        Assert.True(SiloMetricNames.Read(text, "presencegrid_presence_change_to_delivery_seconds_count") >= 1, text);
        Assert.Equal(5, SiloMetricNames.Read(text, $"{prefix}_things_total"));
        Assert.DoesNotContain($"{prefix}_outside", text);

        // Orleans' own meter, and .NET's runtime meter: what pgrid load puts against a run's work.
        Assert.Contains("# TYPE orleans_catalog_activations gauge\n", text);
        Assert.Contains($"# TYPE {SiloMetricNames.ForwardedMessages} counter\n", text);
        Assert.True(SiloMetricNames.Read(text, SiloMetricNames.CpuSeconds, everySeries: true) > 0, text);
        Assert.Contains($"{SiloMetricNames.CpuSeconds}{{cpu_mode=\"user\"}} ", text);
        Assert.True(SiloMetricNames.Read(text, SiloMetricNames.HeapBytes, everySeries: true) > 0, text);
        Assert.True(SiloMetricNames.Read(text, SiloMetricNames.WorkingSetBytes, everySeries: true) > 0, text);
        Assert.Contains("# TYPE dotnet_gc_collections_total counter\n", text);
    }

    [Fact]
    public async Task Metrics_NegotiateOpenMetrics_AsAPrometheusServerAsksForIt()
    {
        await using RunningSilo silo = await RunningSilo.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Accept.ParseAdd("application/openmetrics-text; version=1.0.0; charset=utf-8");
        using HttpResponseMessage response = await silo.Http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();

        Assert.Equal("application/openmetrics-text", response.Content.Headers.ContentType?.MediaType);
        Assert.EndsWith("# EOF\n", text);
        Assert.Contains("# TYPE orleans_catalog_activations gauge\n", text);
    }

    [Fact]
    public void LatencyHistogram_Percentiles_AreWithinOnePercent_OfTheExactOnes_OverEveryRecordedSample()
    {
        var histogram = new LatencyHistogram();
        var random = new Random(42);
        var exact = new List<double>();
        for (int i = 0; i < 250_000; i++)
        {
            // Log-uniform from 1 µs to 10 s, as request latencies spread.
            long micros = (long)Math.Exp(random.NextDouble() * Math.Log(10_000_000));
            exact.Add(micros / 1000.0);
            histogram.Record(TimeSpan.FromMicroseconds(micros));
        }

        exact.Sort();
        Assert.Equal(250_000, histogram.Count);
        foreach (double p in new[] { 1.0, 50, 90, 99, 99.9, 100 })
        {
            double truth = exact[(int)Math.Ceiling(exact.Count * p / 100.0) - 1];
            double estimate = histogram.PercentileMs(p);
            Assert.True(Math.Abs(estimate - truth) <= Math.Max(0.001, truth * 0.01), $"p{p}: {estimate} ms against {truth} ms");
        }

        histogram.Reset();
        Assert.Equal(0, histogram.Count);
        Assert.Equal(0, histogram.PercentileMs(99));
    }

    [Fact]
    public void LatencyHistogram_Buckets_AreContiguous_AndTheirMidpointsRise()
    {
        int last = -1;
        double lastMid = -1;
        for (long micros = 0; micros < 1 << 20; micros++)
        {
            int index = LatencyHistogram.IndexOf(micros);
            Assert.True(index == last || index == last + 1, $"{micros} µs jumped from bucket {last} to {index}");
            if (index != last)
            {
                double mid = LatencyHistogram.MidpointOf(index);
                Assert.True(mid > lastMid && mid >= micros, $"bucket {index} starting at {micros} µs has midpoint {mid}");
                lastMid = mid;
                last = index;
            }
        }
    }
}
