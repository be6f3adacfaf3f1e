using System.Globalization;

namespace PresenceGrid.Cli;

/// <summary>
/// The series of a silo's <c>/metrics</c> that <c>pgrid load</c> reads, as OpenTelemetry's Prometheus exporter names them:
/// the instrument's name with <c>.</c> and <c>-</c> turned into <c>_</c>, then its unit (<c>_seconds</c>, <c>_bytes</c>;
/// annotations such as <c>{delivery}</c> add nothing) and <c>_total</c> for counters.
/// </summary>
internal static class SiloMetricNames
{
    /// <summary>Inbox writes (<c>presencegrid.presence.deliveries</c>).</summary>
    public const string Deliveries = "presencegrid_presence_deliveries_total";

    /// <summary>Cross-silo messages carrying notified changes (<c>presencegrid.presence.replication.messages</c>).</summary>
    public const string ReplicationMessages = "presencegrid_presence_replication_messages_total";

    /// <summary>Members reached through their rooms (<c>presencegrid.presence.room_recipients</c>).</summary>
    public const string RoomRecipients = "presencegrid_presence_room_recipients_total";

    /// <summary>User grain calls a silo made for a user another silo owns (<c>presencegrid.presence.user_calls.remote</c>).</summary>
    public const string RemoteUserCalls = "presencegrid_presence_user_calls_remote_total";

    /// <summary>Grain messages Orleans forwarded to another silo (<c>orleans-messaging-processing-dispatcher-forwarded</c>).</summary>
    public const string ForwardedMessages = "orleans_messaging_processing_dispatcher_forwarded_total";

    /// <summary>The process's CPU time, one series per <c>cpu_mode</c> (<c>dotnet.process.cpu.time</c>).</summary>
    public const string CpuSeconds = "dotnet_process_cpu_time_seconds_total";

    /// <summary>The managed heap after the last collection, one series per generation (<c>dotnet.gc.last_collection.heap.size</c>).</summary>
    public const string HeapBytes = "dotnet_gc_last_collection_heap_size_bytes";

    /// <summary>The process's working set (<c>dotnet.process.memory.working_set</c>).</summary>
    public const string WorkingSetBytes = "dotnet_process_memory_working_set_bytes";

    /// <summary>
    /// A series' value in Prometheus text: the unlabelled series of <paramref name="name"/> (<c>NAME VALUE</c>, or
    /// <c>NAME{} VALUE</c> as OpenTelemetry writes it), or with <paramref name="everySeries"/> the sum of all its series (user
    /// and system CPU time, say); 0 when there is none.
    /// </summary>
    /// <param name="text">A <c>/metrics</c> answer.</param>
    /// <param name="name">The series' name.</param>
    /// <param name="everySeries">Sum every label set, not only the unlabelled series.</param>
    /// <returns>The value or the sum.</returns>
    public static double Read(string text, string name, bool everySeries = false)
    {
        double sum = 0;
        foreach (string line in text.Split('\n'))
        {
            bool labels = line.StartsWith(name + "{", StringComparison.Ordinal);
            if (line.StartsWith(name + " ", StringComparison.Ordinal) || line.StartsWith(name + "{} ", StringComparison.Ordinal) || (everySeries && labels))
            {
                // A sample is NAME[{LABELS}] VALUE [TIMESTAMP]: the value follows the name, or the labels' closing brace.
                string sample = line[(labels ? line.LastIndexOf('}') + 1 : name.Length)..];
                sum += double.Parse(sample.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture);
            }
        }

        return sum;
    }
}
