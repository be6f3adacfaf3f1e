using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace PresenceGrid.Silo.Api;

/// <summary>
/// <c>/metrics</c> in Prometheus text format from the grid's meters (<c>PresenceGrid.*</c>) and .NET's
/// <c>System.Runtime</c> meter (<c>dotnet_gc_collections</c>, <c>dotnet_gc_pause_time</c>, ...), through a
/// <see cref="MeterListener"/> (no Prometheus exporter package is served here). Counters and
/// up-down counters are summed per tag set; histograms expose <c>_count</c> and <c>_sum</c>. The
/// runtime meter's <c>dotnet_process_cpu_time</c> lets a load generator put a run's throughput against
/// the CPU the silo spent on it.
/// </summary>
/// <remarks>
/// Everything about an instrument (its sanitised name and kind) is worked out once, when it is
/// published, and travels as the listener's per-instrument state: a measurement without tags is one
/// interlocked add on a series it already holds.
/// </remarks>
internal sealed class PrometheusExporter : IDisposable
{
    /// <summary>.NET's own meter: garbage collections and their pause time, thread-pool queue, JIT.</summary>
    private const string RuntimeMeter = "System.Runtime";

    /// <summary>Orleans' own meter: activations, messaging, membership, directory, storage.</summary>
    private const string OrleansMeter = "Microsoft.Orleans";

    [ThreadStatic]
    private static StringBuilder? t_labels;

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, InstrumentSeries> _instruments = new(StringComparer.Ordinal);

    public PrometheusExporter()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name.StartsWith("PresenceGrid.", StringComparison.Ordinal) || instrument.Meter.Name is RuntimeMeter or OrleansMeter)
            {
                string name = Sanitize(instrument.Name);
                listener.EnableMeasurementEvents(instrument, _instruments.GetOrAdd(name, static (n, i) => new InstrumentSeries(n, KindOf(i), i.IsObservable), instrument));
            }
        };
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) => ((InstrumentSeries)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>(static (_, value, tags, state) => ((InstrumentSeries)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>(static (_, value, tags, state) => ((InstrumentSeries)state!).Record(value, tags));
        _listener.Start();
    }

    private enum Kind
    {
        Counter,
        Gauge,
        Histogram,
    }

    public string Scrape()
    {
        _listener.RecordObservableInstruments();
        var text = new StringBuilder();
        foreach (InstrumentSeries instrument in _instruments.Values.OrderBy(i => i.Name, StringComparer.Ordinal))
        {
            instrument.WriteTo(text);
        }

        return text.ToString();
    }

    public void Dispose() => _listener.Dispose();

    private static Kind KindOf(Instrument instrument) => instrument switch
    {
        Histogram<long> or Histogram<int> or Histogram<double> => Kind.Histogram,
        Counter<long> or Counter<int> or Counter<double> or ObservableCounter<long> or ObservableCounter<int> or ObservableCounter<double> => Kind.Counter,
        _ => Kind.Gauge,
    };

    private static string Sanitize(string name)
    {
        return string.Create(name.Length, name, static (span, source) =>
        {
            for (int i = 0; i < span.Length; i++)
            {
                span[i] = char.IsAsciiLetterOrDigit(source[i]) ? source[i] : '_';
            }
        });
    }

    /// <summary>
    /// One instrument's series: the untagged one, and one per distinct label set. An observable
    /// instrument reports its current value (a running total for a counter), which replaces the last.
    /// </summary>
    private sealed class InstrumentSeries(string name, Kind kind, bool observed)
    {
        private readonly Series _untagged = new();
        private readonly ConcurrentDictionary<string, Series> _tagged = new(StringComparer.Ordinal);
        private bool _untaggedSeen;

        public string Name { get; } = name;

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            Series series;
            if (tags.IsEmpty)
            {
                series = _untagged;
                if (!_untaggedSeen)
                {
                    Volatile.Write(ref _untaggedSeen, true);
                }
            }
            else
            {
                series = _tagged.GetOrAdd(Labels(tags), static _ => new Series());
            }

            if (observed)
            {
                series.Set(value);
            }
            else
            {
                series.Add(value);
            }
        }

        public void WriteTo(StringBuilder text)
        {
            bool untagged = Volatile.Read(ref _untaggedSeen);
            if (!untagged && _tagged.IsEmpty)
            {
                return;
            }

            text.Append(CultureInfo.InvariantCulture, $"# TYPE {Name} {kind switch { Kind.Histogram => "summary", Kind.Counter => "counter", _ => "gauge" }}\n");
            if (untagged)
            {
                Write(text, string.Empty, _untagged);
            }

            foreach (KeyValuePair<string, Series> series in _tagged.OrderBy(s => s.Key, StringComparer.Ordinal))
            {
                Write(text, series.Key, series.Value);
            }
        }

        private void Write(StringBuilder text, string labels, Series series)
        {
            if (kind == Kind.Histogram)
            {
                text.Append(CultureInfo.InvariantCulture, $"{Name}_count{labels} {series.Count}\n");
                text.Append(CultureInfo.InvariantCulture, $"{Name}_sum{labels} {series.Sum}\n");
            }
            else
            {
                text.Append(CultureInfo.InvariantCulture, $"{Name}{labels} {series.Sum}\n");
            }
        }

        private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            StringBuilder labels = t_labels ??= new StringBuilder();
            labels.Clear();
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                labels.Append(labels.Length == 0 ? '{' : ',');
                foreach (char c in tag.Key)
                {
                    labels.Append(char.IsAsciiLetterOrDigit(c) ? c : '_');
                }

                labels.Append("=\"")
                    .Append(Convert.ToString(tag.Value, CultureInfo.InvariantCulture)?.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal))
                    .Append('"');
            }

            return labels.Append('}').ToString();
        }
    }

    /// <summary>A running count and sum, updated without a lock.</summary>
    private sealed class Series
    {
        private long _count;
        private double _sum;

        public long Count => Interlocked.Read(ref _count);

        public double Sum => Volatile.Read(ref _sum);

        public void Add(double value)
        {
            Interlocked.Increment(ref _count);
            double current = Volatile.Read(ref _sum);
            while (true)
            {
                double seen = Interlocked.CompareExchange(ref _sum, current + value, current);
                if (seen.Equals(current))
                {
                    return;
                }

                current = seen;
            }
        }

        public void Set(double value)
        {
            Interlocked.Increment(ref _count);
            Interlocked.Exchange(ref _sum, value);
        }
    }
}
