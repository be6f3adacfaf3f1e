using System.Diagnostics.Metrics;

namespace PresenceGrid.Routing.Tests.Infrastructure;

/// <summary>An <see cref="IMeterFactory"/> whose meters are scoped to one test, so parallel tests do not see each other's measurements.</summary>
internal sealed class TestMeterFactory : IMeterFactory
{
    private readonly List<Meter> _meters = [];

    public Meter Create(MeterOptions options)
    {
        var meter = new Meter(new MeterOptions(options.Name) { Version = options.Version, Tags = options.Tags, Scope = this });
        _meters.Add(meter);
        return meter;
    }

    public void Dispose()
    {
        foreach (var meter in _meters)
        {
            meter.Dispose();
        }
    }
}

/// <summary>One recorded measurement.</summary>
internal sealed record Measurement(string Instrument, double Value, IReadOnlyDictionary<string, string?> Tags);

/// <summary>Collects the measurements of the meters created by one <see cref="TestMeterFactory"/> with a <see cref="MeterListener"/>.</summary>
internal sealed class MetricsCollector : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly List<Measurement> _measurements = [];
    private readonly Lock _lock = new();

    public MetricsCollector(TestMeterFactory factory)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, factory))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.Start();
    }

    public IReadOnlyList<Measurement> Measurements
    {
        get
        {
            lock (_lock)
            {
                return [.. _measurements];
            }
        }
    }

    public IReadOnlyList<Measurement> Failures(string? kind = null, string? module = null) =>
        [.. Measurements.Where(m => m.Instrument == RoutingInstruments.FailuresName
            && (kind is null || m.Tags["kind"] == kind)
            && (module is null || m.Tags["module"] == module))];

    public IReadOnlyList<Measurement> Durations(string? module = null) =>
        [.. Measurements.Where(m => m.Instrument == RoutingInstruments.DurationName && (module is null || m.Tags["module"] == module))];

    public void Dispose() => _listener.Dispose();

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var dictionary = new Dictionary<string, string?>();
        foreach (var tag in tags)
        {
            dictionary[tag.Key] = tag.Value?.ToString();
        }

        lock (_lock)
        {
            _measurements.Add(new Measurement(instrument.Name, value, dictionary));
        }
    }
}
