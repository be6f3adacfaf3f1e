using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace PresenceGrid.Silo.Api;

/// <summary>
/// <c>/metrics</c> in Prometheus text format from the grid's meters (<c>PresenceGrid.*</c>), through a
/// <see cref="MeterListener"/> (no Prometheus exporter package is served here). Counters and
/// up-down counters are summed per tag set; histograms expose <c>_count</c> and <c>_sum</c>.
/// </summary>
internal sealed class PrometheusExporter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<(string Name, string Labels), Series> _series = new();

    public PrometheusExporter()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name.StartsWith("PresenceGrid.", StringComparison.Ordinal))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    public string Scrape()
    {
        _listener.RecordObservableInstruments();
        var text = new StringBuilder();
        foreach (IGrouping<string, KeyValuePair<(string Name, string Labels), Series>> metric in _series.OrderBy(s => s.Key.Name).GroupBy(s => s.Key.Name))
        {
            Series first = metric.First().Value;
            text.Append(CultureInfo.InvariantCulture, $"# TYPE {metric.Key} {(first.IsHistogram ? "summary" : first.IsCounter ? "counter" : "gauge")}\n");
            foreach (((string name, string labels), Series series) in metric)
            {
                if (series.IsHistogram)
                {
                    text.Append(CultureInfo.InvariantCulture, $"{name}_count{labels} {series.Count}\n");
                    text.Append(CultureInfo.InvariantCulture, $"{name}_sum{labels} {series.Sum}\n");
                }
                else
                {
                    text.Append(CultureInfo.InvariantCulture, $"{name}{labels} {series.Sum}\n");
                }
            }
        }

        return text.ToString();
    }

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string name = Sanitize(instrument.Name);
        var labels = new StringBuilder();
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            labels.Append(labels.Length == 0 ? "{" : ",").Append(Sanitize(tag.Key)).Append("=\"")
                .Append(Convert.ToString(tag.Value, CultureInfo.InvariantCulture)?.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)).Append('"');
        }

        if (labels.Length > 0)
        {
            labels.Append('}');
        }

        bool histogram = instrument.GetType().Name.StartsWith("Histogram", StringComparison.Ordinal);
        bool observableGauge = instrument.IsObservable && !instrument.GetType().Name.Contains("Counter", StringComparison.Ordinal);
        bool counter = instrument.GetType().Name.StartsWith("Counter", StringComparison.Ordinal) || instrument.GetType().Name.StartsWith("ObservableCounter", StringComparison.Ordinal);
        Series series = _series.GetOrAdd((name, labels.ToString()), _ => new Series(histogram, counter));
        series.Add(value, replace: observableGauge || instrument.IsObservable);
    }

    private static string Sanitize(string name)
    {
        var builder = new StringBuilder(name.Length);
        foreach (char c in name)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) ? c : '_');
        }

        return builder.ToString();
    }

    private sealed class Series(bool isHistogram, bool isCounter)
    {
        private readonly Lock _lock = new();

        public bool IsHistogram { get; } = isHistogram;

        public bool IsCounter { get; } = isCounter;

        public long Count { get; private set; }

        public double Sum { get; private set; }

        public void Add(double value, bool replace)
        {
            lock (_lock)
            {
                Count++;
                Sum = replace ? value : Sum + value;
            }
        }
    }
}
