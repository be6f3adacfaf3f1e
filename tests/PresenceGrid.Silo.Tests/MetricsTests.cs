using System.Diagnostics.Metrics;
using System.Globalization;
using PresenceGrid.Cli;
using PresenceGrid.Silo.Api;

namespace PresenceGrid.Silo.Tests;

/// <summary>The silo's <c>/metrics</c> text and the load generator's latency histogram.</summary>
public sealed class MetricsTests
{
    [Fact]
    public void Scrape_SumsCounters_PerLabelSet_ReportsHistogramsAndObservedValues_AndTheRuntimeMeter()
    {
        string meterName = $"PresenceGrid.MetricsTests.{Guid.NewGuid():N}";
        using var exporter = new PrometheusExporter();
        using var meter = new Meter(meterName);
        string prefix = "t" + Guid.NewGuid().ToString("N")[..8];
        Counter<long> plain = meter.CreateCounter<long>($"{prefix}.plain");
        Counter<long> tagged = meter.CreateCounter<long>($"{prefix}.tagged");
        Histogram<double> latency = meter.CreateHistogram<double>($"{prefix}.latency");
        long observed = 7;
        meter.CreateObservableGauge($"{prefix}.observed", () => observed);

        plain.Add(2);
        plain.Add(3);
        tagged.Add(1, new KeyValuePair<string, object?>("reason", "a\"b"));
        tagged.Add(4, new KeyValuePair<string, object?>("reason", "c"));
        tagged.Add(5, new KeyValuePair<string, object?>("reason", "c"));
        latency.Record(0.25);
        latency.Record(0.5);
        string first = exporter.Scrape();
        observed = 11;
        string second = exporter.Scrape();

        Assert.Contains($"# TYPE {prefix}_plain counter\n{prefix}_plain 5\n", first);
        Assert.Contains($"{prefix}_tagged{{reason=\"a\\\"b\"}} 1\n", first);
        Assert.Contains($"{prefix}_tagged{{reason=\"c\"}} 9\n", first);
        Assert.Contains($"# TYPE {prefix}_latency summary\n{prefix}_latency_count 2\n{prefix}_latency_sum 0.75\n", first);
        Assert.Contains($"# TYPE {prefix}_observed gauge\n{prefix}_observed 7\n", first);
        Assert.Contains($"{prefix}_observed 11\n", second);
        Assert.DoesNotContain($"{prefix}_observed 18", second);

        // .NET's runtime meter rides along: the process CPU that pgrid load puts against a run's work.
        string cpuLine = second.Split('\n').Single(l => l.StartsWith("dotnet_process_cpu_time{cpu_mode=\"user\"} ", StringComparison.Ordinal));
        Assert.True(double.Parse(cpuLine.AsSpan(cpuLine.LastIndexOf(' ') + 1), CultureInfo.InvariantCulture) > 0, cpuLine);
        Assert.Contains("# TYPE dotnet_gc_collections counter\n", second);
    }

    [Fact]
    public void Scrape_IgnoresMetersOutsideTheGrid()
    {
        using var exporter = new PrometheusExporter();
        using var meter = new Meter($"Other.{Guid.NewGuid():N}");
        string name = "t" + Guid.NewGuid().ToString("N")[..8];
        meter.CreateCounter<long>(name).Add(1);
        Assert.DoesNotContain(name, exporter.Scrape());
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
