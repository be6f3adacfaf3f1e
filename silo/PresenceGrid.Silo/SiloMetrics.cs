using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using PresenceGrid.Silo.Configuration;

namespace PresenceGrid.Silo;

/// <summary>
/// The silo's metrics, on one OpenTelemetry meter provider: the grid's meters (<c>PresenceGrid.*</c>), Orleans' own
/// (<c>Microsoft.Orleans</c>: activations, messaging, membership, directory, storage) and .NET's runtime meter
/// (<c>System.Runtime</c>: CPU, GC, thread pool, JIT). They are served on <c>/metrics</c> by OpenTelemetry's Prometheus
/// exporter and, with <c>metrics.otlp_endpoint</c>, also pushed over OTLP (docs/api.md, "Metrics").
/// </summary>
internal static class SiloMetrics
{
    /// <summary>The scrape endpoint.</summary>
    public const string Path = "/metrics";

    /// <summary>The meters exported, OpenTelemetry's wildcards allowed.</summary>
    public static readonly string[] Meters = ["PresenceGrid.*", "Microsoft.Orleans", "System.Runtime"];

    /// <summary>
    /// Bucket bounds for histograms in seconds that carry no advice of their own: OpenTelemetry's defaults (0, 5, 10, 25 ...
    /// 10000) are meant for milliseconds and would put every presence latency into the first bucket.
    /// </summary>
    private static readonly double[] SecondsBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    /// <summary>Registers the meter provider (started and stopped with the host) and its readers.</summary>
    public static void Add(IServiceCollection services, SiloConfigFile config)
    {
        services.AddOpenTelemetry().WithMetrics(metrics =>
        {
            metrics.ConfigureResource(resource => resource.AddService("presencegrid", serviceInstanceId: config.SiloName))
                .AddMeter(Meters)
                .AddView(SecondsHistograms)
                .AddPrometheusExporter(prometheus =>
                {
                    // Every scrape collects afresh: a reader that has just caused a change sees it (the default caches 300 ms).
                    prometheus.ScrapeResponseCacheDurationMilliseconds = 0;

                    // No otel_scope_name label on every series: the name's prefix (presencegrid_, orleans_, dotnet_) says
                    // which meter it comes from, and an unlabelled counter stays one plain series.
                    prometheus.ScopeInfoEnabled = false;
                });
            if (config.OtlpEndpoint is { } otlp)
            {
                // Push the same meters over OTLP (HTTP/protobuf) to a collector.
                metrics.AddOtlpExporter((exporter, reader) =>
                {
                    exporter.Endpoint = new Uri(otlp, "v1/metrics");
                    exporter.Protocol = OpenTelemetry.Exporter.OtlpExportProtocol.HttpProtobuf;
                    reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)config.OtlpInterval.TotalMilliseconds;
                });
            }
        });
    }

    /// <summary>Serves the Prometheus text on <see cref="Path"/>.</summary>
    public static void Map(WebApplication app) => app.MapPrometheusScrapingEndpoint(Path);

    private static MetricStreamConfiguration? SecondsHistograms(Instrument instrument) =>
        instrument is Histogram<double> && instrument.Unit == "s" && instrument.Meter.Name.StartsWith("PresenceGrid.", StringComparison.Ordinal)
            ? new ExplicitBucketHistogramConfiguration { Boundaries = SecondsBuckets }
            : null;
}
