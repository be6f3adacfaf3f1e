using System.Text.Json;
using Microsoft.Extensions.Logging;
using PresenceGrid.Invocation;
using PresenceGrid.Runtime.Diagnostics;

namespace PresenceGrid.Runtime.Messaging;

/// <summary>
/// Requests that wait for a response, in deadline order (one response timeout for all), as an
/// intrusive doubly linked list: registering and completing a call allocate nothing. A timer of
/// the silo's <see cref="TimeProvider"/> fails the expired ones with <see cref="GrainCallTimeoutException"/>.
/// </summary>
internal sealed class InFlightRequests : IDisposable
{
    private readonly object _lock = new();
    private readonly Sentinel _head = new();
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _timeout;
    private readonly long _timeoutTicks;
    private readonly ILogger _logger;
    private readonly RuntimeInstruments _instruments;
    private ITimer? _timer;
    private int _count;

    public InFlightRequests(TimeProvider timeProvider, TimeSpan responseTimeout, ILogger logger, RuntimeInstruments instruments)
    {
        _timeProvider = timeProvider;
        _timeout = responseTimeout;
        _timeoutTicks = (long)(responseTimeout.TotalSeconds * timeProvider.TimestampFrequency);
        _logger = logger;
        _instruments = instruments;
        _head.InFlightNext = _head;
        _head.InFlightPrevious = _head;
    }

    public int Count => Volatile.Read(ref _count);

    /// <summary>How often expired calls are looked for.</summary>
    public TimeSpan ScanPeriod => TimeSpan.FromTicks(Math.Clamp(_timeout.Ticks / 10, TimeSpan.TicksPerMillisecond * 10, TimeSpan.TicksPerSecond));

    public void Start()
    {
        using (ExecutionContext.SuppressFlow())
        {
            _timer = _timeProvider.CreateTimer(static s => ((InFlightRequests)s!).ExpireOverdue(), this, ScanPeriod, ScanPeriod);
        }
    }

    public void Add(GrainRequest request)
    {
        request.Deadline = _timeProvider.GetTimestamp() + _timeoutTicks;
        lock (_lock)
        {
            GrainRequest last = _head.InFlightPrevious!;
            request.InFlightPrevious = last;
            request.InFlightNext = _head;
            last.InFlightNext = request;
            _head.InFlightPrevious = request;
            _count++;
        }
    }

    public void Remove(GrainRequest request)
    {
        if (request.InFlightNext is null)
        {
            return;
        }

        lock (_lock)
        {
            Unlink(request);
        }
    }

    /// <summary>Fails every call whose deadline has passed.</summary>
    public void ExpireOverdue()
    {
        long now = _timeProvider.GetTimestamp();
        List<GrainRequest>? expired = null;
        lock (_lock)
        {
            GrainRequest current = _head.InFlightNext!;
            while (!ReferenceEquals(current, _head) && current.Deadline <= now)
            {
                GrainRequest next = current.InFlightNext!;
                Unlink(current);
                (expired ??= []).Add(current);
                current = next;
            }
        }

        if (expired is null)
        {
            return;
        }

        foreach (GrainRequest request in expired)
        {
            if (request.TryFail(new GrainCallTimeoutException(request.TargetId, request.Method.DisplayName, _timeout)))
            {
                _instruments.CallsTimedOut.Add(1);
                RuntimeLog.RequestTimedOut(_logger, request.Method.DisplayName, request.TargetId, _timeout.TotalMilliseconds);
            }
        }
    }

    /// <summary>Fails every waiting call (the silo stops).</summary>
    /// <param name="createException">The exception for each.</param>
    public void FailAll(Func<GrainRequest, Exception> createException)
    {
        List<GrainRequest> all = [];
        lock (_lock)
        {
            GrainRequest current = _head.InFlightNext!;
            while (!ReferenceEquals(current, _head))
            {
                GrainRequest next = current.InFlightNext!;
                Unlink(current);
                all.Add(current);
                current = next;
            }
        }

        foreach (GrainRequest request in all)
        {
            request.TryFail(createException(request));
        }
    }

    public void Dispose() => _timer?.Dispose();

    private void Unlink(GrainRequest request)
    {
        if (request.InFlightNext is null)
        {
            return;
        }

        request.InFlightPrevious!.InFlightNext = request.InFlightNext;
        request.InFlightNext.InFlightPrevious = request.InFlightPrevious;
        request.InFlightNext = null;
        request.InFlightPrevious = null;
        _count--;
    }

    private sealed class Sentinel : GrainOneWayRequest
    {
        private static readonly GrainMethodDescriptor Descriptor = new("PresenceGrid.Runtime.InFlight", "Sentinel", string.Empty, GrainMethodOptions.OneWay, static () => new Sentinel());

        public override GrainMethodDescriptor Method => Descriptor;

        public override Task Invoke(object target) => Task.CompletedTask;

        public override void WriteArguments(Utf8JsonWriter writer, JsonSerializerOptions options) => throw new NotSupportedException();

        public override void ReadArguments(ref Utf8JsonReader reader, JsonSerializerOptions options) => throw new NotSupportedException();
    }
}
