using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace PresenceGrid.Routing;

/// <summary>The presence router's metrics.</summary>
internal sealed class RoutingInstruments : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "PresenceGrid.Routing";

    public const string FailuresName = "presencegrid.router.module.failures";
    public const string DurationName = "presencegrid.router.module.duration";

    /// <summary>Values of the <c>kind</c> tag of <see cref="FailuresName"/>.</summary>
    public const string KindException = "exception";
    public const string KindTimeout = "timeout";
    public const string KindMalformed = "malformed";

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _failures;
    private readonly Histogram<double> _duration;

    public RoutingInstruments(IMeterFactory? meterFactory)
    {
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _failures = _meter.CreateCounter<long>(FailuresName, "{failure}",
            "Router module callback calls whose result was skipped or cut short (kind: exception, timeout, malformed).");
        _duration = _meter.CreateHistogram<double>(DurationName, "s", "Duration of router module callback calls.");
    }

    public void Failure(ModuleIdentity module, string callback, string kind)
    {
        if (_failures.Enabled)
        {
            var tags = new TagList
            {
                { "module", module.Name },
                { "callback", callback },
                { "kind", kind },
            };
            _failures.Add(1, tags);
        }
    }

    public void Duration(ModuleIdentity module, string callback, TimeSpan elapsed)
    {
        if (_duration.Enabled)
        {
            var tags = new TagList
            {
                { "module", module.Name },
                { "callback", callback },
            };
            _duration.Record(elapsed.TotalSeconds, tags);
        }
    }

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
