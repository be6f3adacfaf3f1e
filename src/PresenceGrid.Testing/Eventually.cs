using System.Diagnostics;

namespace PresenceGrid.Testing;

/// <summary>
/// Bounded waiting for effects that happen on other threads or processes: polls a condition until
/// it holds or a deadline passes (then throws <see cref="TimeoutException"/> naming what was
/// awaited). Tests wait this way, never with a fixed sleep.
/// </summary>
public static class Eventually
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Waits until <paramref name="condition"/> holds, at most <paramref name="timeoutMs"/> ms.</summary>
    /// <param name="condition">The condition.</param>
    /// <param name="what">What is awaited, for the failure message.</param>
    /// <param name="timeoutMs">The bound in milliseconds.</param>
    /// <returns>A task.</returns>
    public static Task TrueAsync(Func<bool> condition, string what, int timeoutMs = 10_000) =>
        TrueAsync(() => Task.FromResult(condition()), what, TimeSpan.FromMilliseconds(timeoutMs));

    /// <summary>Waits until <paramref name="condition"/> holds, at most <paramref name="timeout"/>.</summary>
    /// <param name="condition">The condition.</param>
    /// <param name="what">What is awaited, for the failure message.</param>
    /// <param name="timeout">The bound.</param>
    /// <returns>A task.</returns>
    public static Task TrueAsync(Func<bool> condition, string what, TimeSpan timeout) =>
        TrueAsync(() => Task.FromResult(condition()), what, timeout);

    /// <summary>Waits until the asynchronous <paramref name="condition"/> holds, at most <paramref name="timeout"/> (default 10 s).</summary>
    /// <param name="condition">The condition.</param>
    /// <param name="what">What is awaited, for the failure message.</param>
    /// <param name="timeout">The bound.</param>
    /// <returns>A task.</returns>
    public static async Task TrueAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        TimeSpan limit = timeout ?? DefaultTimeout;
        var clock = Stopwatch.StartNew();
        while (!await condition().ConfigureAwait(false))
        {
            if (clock.Elapsed > limit)
            {
                throw new TimeoutException($"Waited {limit.TotalMilliseconds:0} ms for: {what}");
            }

            await Task.Delay(2).ConfigureAwait(false);
        }
    }

    /// <summary>Awaits a task that must finish within the bound (it must not hang).</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="task">The task.</param>
    /// <param name="timeoutMs">The bound in milliseconds.</param>
    /// <returns>The task's result.</returns>
    public static async Task<T> Within<T>(Task<T> task, int timeoutMs = 10_000) =>
        await task.WaitAsync(TimeSpan.FromMilliseconds(timeoutMs)).ConfigureAwait(false);

    /// <summary>Awaits a task that must finish within the bound (it must not hang).</summary>
    /// <param name="task">The task.</param>
    /// <param name="timeoutMs">The bound in milliseconds.</param>
    /// <returns>A task.</returns>
    public static async Task Within(Task task, int timeoutMs = 10_000) =>
        await task.WaitAsync(TimeSpan.FromMilliseconds(timeoutMs)).ConfigureAwait(false);
}
