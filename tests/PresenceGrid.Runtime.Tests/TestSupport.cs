using System.Collections.Concurrent;

namespace PresenceGrid.Runtime.Tests;

/// <summary>Gates that tests open and grains wait on, by name.</summary>
internal static class Gates
{
    private static readonly ConcurrentDictionary<string, TaskCompletionSource> All = new();

    public static Task WaitAsync(string name) => Get(name).Task;

    public static void Open(string name) => Get(name).TrySetResult();

    private static TaskCompletionSource Get(string name) =>
        All.GetOrAdd(name, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}

/// <summary>Bounded waiting for effects that happen on other threads.</summary>
internal static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, string what, int timeoutMs = 10_000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Waited {timeoutMs} ms for: {what}");
            }

            await Task.Delay(2);
        }
    }

    /// <summary>Awaits a task that must finish within the bound (it must not hang).</summary>
    public static async Task<T> Within<T>(Task<T> task, int timeoutMs = 10_000) =>
        await task.WaitAsync(TimeSpan.FromMilliseconds(timeoutMs));

    public static async Task Within(Task task, int timeoutMs = 10_000) =>
        await task.WaitAsync(TimeSpan.FromMilliseconds(timeoutMs));
}
