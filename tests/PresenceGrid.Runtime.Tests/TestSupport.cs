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
