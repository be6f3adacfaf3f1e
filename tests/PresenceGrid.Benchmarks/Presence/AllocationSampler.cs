using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace PresenceGrid.Benchmarks.Presence;

/// <summary>
/// Counts the runtime's allocation samples (<c>GCAllocationTick</c>, one per ~100 KB allocated) by type while it is
/// enabled, so a run can say where its garbage comes from without an external profiler (<c>--alloc</c>).
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const int GCAllocationTickEventId = 10;
    private readonly ConcurrentDictionary<string, long> _bytes = new(StringComparer.Ordinal);
    private volatile bool _enabled;

    public void Start()
    {
        _bytes.Clear();
        _enabled = true;
    }

    /// <summary>Stops sampling and prints the types with the most sampled bytes, per update.</summary>
    public void Report(int updates, int top = 25)
    {
        _enabled = false;
        long total = _bytes.Values.Sum();
        Console.WriteLine($"allocation samples by type ({total / (double)updates:N0} B per update sampled):");
        foreach ((string type, long bytes) in _bytes.OrderByDescending(p => p.Value).Take(top))
        {
            Console.WriteLine($"  {bytes / (double)updates,8:N1} B/update  {type}");
        }
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, (EventKeywords)0x1); // GC keyword
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (!_enabled || eventData.EventId != GCAllocationTickEventId || eventData.Payload is null || eventData.PayloadNames is null)
        {
            return;
        }

        int typeName = eventData.PayloadNames.IndexOf("TypeName");
        int amount = eventData.PayloadNames.IndexOf("AllocationAmount64");
        if (typeName >= 0 && amount >= 0 && eventData.Payload[typeName] is string type && eventData.Payload[amount] is ulong bytes)
        {
            _bytes.AddOrUpdate(type, (long)bytes, (_, sum) => sum + (long)bytes);
        }
    }
}
