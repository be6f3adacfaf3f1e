namespace PresenceGrid.Fanout;

/// <summary>
/// The wake-ups of waiting syncs that an inbox or a room holds: each waiting sync registers one
/// completion source and takes it back when its wait ends; a change completes and drops them all.
/// The set is the owner's field (null while nobody waits) and is changed under the owner's lock.
/// </summary>
internal static class SyncWakeUps
{
    /// <summary>Registers <paramref name="wake"/> (under the owner's lock).</summary>
    public static void Add(ref HashSet<TaskCompletionSource>? wakeUps, TaskCompletionSource wake) => (wakeUps ??= []).Add(wake);

    /// <summary>Takes the set for completing outside the lock (under the owner's lock).</summary>
    public static HashSet<TaskCompletionSource>? TakeAll(ref HashSet<TaskCompletionSource>? wakeUps)
    {
        HashSet<TaskCompletionSource>? taken = wakeUps;
        wakeUps = null;
        return taken;
    }

    /// <summary>Completes what <see cref="TakeAll"/> took (outside the owner's lock).</summary>
    public static void Complete(HashSet<TaskCompletionSource>? taken)
    {
        if (taken is not null)
        {
            foreach (TaskCompletionSource wake in taken)
            {
                wake.TrySetResult();
            }
        }
    }
}
