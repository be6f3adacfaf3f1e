using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using PresenceGrid.Matrix;

namespace PresenceGrid.Grains.Tests;

/// <summary>The presence meter counts what Synapse's synapse_handler_presence_* count, plus inbox deliveries and members reached through rooms.</summary>
public sealed class PresenceMetricsTests
{
    [Fact]
    public async Task Updates_Notifications_Transitions_Deliveries_AndTimers_AreCounted()
    {
        var totals = new ConcurrentDictionary<string, long>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "PresenceGrid.Presence")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        var histograms = new ConcurrentDictionary<string, int>();
        listener.SetMeasurementEventCallback<double>((instrument, _, _, _) => histograms.AddOrUpdate(instrument.Name, 1, (_, n) => n + 1));
        listener.SetMeasurementEventCallback<int>((instrument, _, _, _) => histograms.AddOrUpdate(instrument.Name, 1, (_, n) => n + 1));
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string key = instrument.Name;
            foreach (var tag in tags)
            {
                key += $"|{tag.Key}={tag.Value}";
            }

            totals.AddOrUpdate(key, value, (_, v) => v + value);
        });
        listener.Start();
        await using var silo = await PresenceTestSilo.StartAsync();
        await silo.Join("!room:test", "@a:test", "@b:test");
        await silo.Sync("@a:test");
        await silo.Sync("@b:test");

        await silo.Put("@a:test", PresenceState.Online, "hi");
        await silo.AdvanceAsync(TimeSpan.FromSeconds(31));
        await silo.Get("@a:test");
        await silo.Presence.DrainAsync();

        // Meters are shared by every silo of the test process: assert at least this silo's part.
        Assert.True(totals.GetValueOrDefault("presencegrid.presence.notified") >= 2);
        Assert.True(totals.GetValueOrDefault("presencegrid.presence.state_transitions|from=Offline|to=Online") >= 1);
        Assert.True(totals.GetValueOrDefault("presencegrid.presence.state_transitions|from=Online|to=Offline") >= 1);
        Assert.True(totals.GetValueOrDefault("presencegrid.presence.notify_reasons|reason=status_msg_change") >= 1);
        Assert.True(totals.GetValueOrDefault("presencegrid.presence.notify_reasons|reason=state_change") >= 1);
        Assert.True(totals.GetValueOrDefault("presencegrid.presence.timers_fired") >= 1);
        // Each change: a's own inbox, and both members of the room through the room.
        Assert.True(totals.GetValueOrDefault("presencegrid.presence.deliveries") >= 2);
        Assert.True(totals.GetValueOrDefault("presencegrid.presence.room_recipients") >= 4);
        Assert.True(histograms.GetValueOrDefault("presencegrid.presence.change_to_delivery") >= 2);
        Assert.True(histograms.GetValueOrDefault("presencegrid.presence.fanout.batch_size") >= 1);
        Assert.True(histograms.GetValueOrDefault("presencegrid.presence.recipients_per_change") >= 2);
    }
}
