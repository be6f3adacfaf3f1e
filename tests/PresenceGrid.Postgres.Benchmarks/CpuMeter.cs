using System.Diagnostics;
using System.Globalization;

namespace PresenceGrid.Postgres.Benchmarks;

/// <summary>CPU time so far: the whole machine (/proc/stat), this process, and one PostgreSQL server's processes.</summary>
internal readonly record struct CpuSample(long MachineBusyTicks, long MachineTicks, TimeSpan ThisProcess, long PostgresTicks)
{
    private const double TicksPerSecond = 100; // USER_HZ on Linux.

    /// <summary>Takes a sample; <paramref name="postmasterPid"/> (0: unknown) counts that server and its children.</summary>
    public static CpuSample Take(int postmasterPid)
    {
        long busy = 0;
        long total = 0;
        string[] cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        for (int i = 1; i < cpu.Length && i <= 8; i++)
        {
            long value = long.Parse(cpu[i], CultureInfo.InvariantCulture);
            total += value;
            busy += i is 4 or 5 ? 0 : value; // idle, iowait
        }

        using var self = Process.GetCurrentProcess();
        return new CpuSample(busy, total, self.TotalProcessorTime, postmasterPid > 0 ? ServerTicks(postmasterPid) : 0);
    }

    /// <summary>Cores busy on average between <paramref name="start"/> and this sample: machine, this process, PostgreSQL.</summary>
    public (double Machine, double ThisProcess, double Postgres) CoresSince(CpuSample start, TimeSpan elapsed)
    {
        double seconds = elapsed.TotalSeconds;
        double machineShare = MachineTicks == start.MachineTicks ? 0 : (double)(MachineBusyTicks - start.MachineBusyTicks) / (MachineTicks - start.MachineTicks);
        return (
            machineShare * Environment.ProcessorCount,
            (ThisProcess - start.ThisProcess).TotalSeconds / seconds,
            (PostgresTicks - start.PostgresTicks) / TicksPerSecond / seconds);
    }

    private static long ServerTicks(int postmasterPid)
    {
        long ticks = 0;
        foreach (string directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            {
                continue;
            }

            try
            {
                string stat = File.ReadAllText(Path.Combine(directory, "stat"));
                string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                int parent = int.Parse(fields[1], CultureInfo.InvariantCulture);
                if (pid == postmasterPid || parent == postmasterPid)
                {
                    ticks += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                }
            }
            catch (IOException)
            {
                // The process ended meanwhile.
            }
        }

        return ticks;
    }
}
