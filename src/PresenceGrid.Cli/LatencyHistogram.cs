namespace PresenceGrid.Cli;

/// <summary>
/// Latencies of a load run in log-linear buckets of microseconds (HdrHistogram's layout): exact below
/// 128 µs, then 128 buckets per power of two, so a percentile is within 0.8 % of the true value.
/// Recording is one interlocked increment, from any thread, with no allocation; memory is fixed
/// whatever the run's length, and percentiles cover every sample since the last <see cref="Reset"/>.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBucketBits = 7;
    private const int SubBuckets = 1 << SubBucketBits;

    // Up to 2^40 µs (12 days); longer values land in the last bucket.
    private readonly long[] _counts = new long[SubBuckets + ((40 - SubBucketBits) * SubBuckets)];

    /// <summary>Samples recorded since the last reset.</summary>
    public long Count
    {
        get
        {
            long count = 0;
            foreach (long c in _counts)
            {
                count += c;
            }

            return count;
        }
    }

    public void Record(TimeSpan latency)
    {
        long micros = Math.Max(0, latency.Ticks / TimeSpan.TicksPerMicrosecond);
        Interlocked.Increment(ref _counts[Math.Min(IndexOf(micros), _counts.Length - 1)]);
    }

    public void Reset() => Array.Clear(_counts);

    /// <summary>The latency in milliseconds at or below which <paramref name="percentile"/> % of the samples fall; 0 without samples.</summary>
    public double PercentileMs(double percentile)
    {
        long[] counts = [.. _counts];
        long total = 0;
        foreach (long c in counts)
        {
            total += c;
        }

        if (total == 0)
        {
            return 0;
        }

        long rank = Math.Max(1, (long)Math.Ceiling(total * percentile / 100.0));
        long seen = 0;
        for (int i = 0; i < counts.Length; i++)
        {
            seen += counts[i];
            if (seen >= rank)
            {
                return MidpointOf(i) / 1000.0;
            }
        }

        return MidpointOf(counts.Length - 1) / 1000.0;
    }

    internal static int IndexOf(long micros)
    {
        if (micros < SubBuckets)
        {
            return (int)micros;
        }

        int magnitude = 63 - (int)long.LeadingZeroCount(micros); // >= SubBucketBits
        int shift = magnitude - SubBucketBits;
        return SubBuckets + (shift * SubBuckets) + (int)((micros >> shift) - SubBuckets);
    }

    internal static double MidpointOf(int index)
    {
        if (index < SubBuckets)
        {
            return index;
        }

        int shift = (index - SubBuckets) / SubBuckets;
        long low = (SubBuckets + ((index - SubBuckets) % SubBuckets)) << shift;
        return low + (((1L << shift) - 1) / 2.0);
    }
}
