using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace PresenceGrid.Cluster.Tests.Infrastructure;

/// <summary>A logger provider that keeps every entry, so tests can assert on event ids and messages.</summary>
public sealed class LogCollector : ILoggerProvider
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();

    public IReadOnlyList<LogEntry> Entries => [.. _entries];

    public IReadOnlyList<LogEntry> WithEventId(int eventId) => [.. _entries.Where(e => e.EventId == eventId)];

    /// <summary>The first entry with <paramref name="eventId"/>, waiting for it (bounded polling): another host may log it a moment after the test saw the effect.</summary>
    public async Task<LogEntry> WaitFor(int eventId, TimeSpan bound)
    {
        using var deadline = new CancellationTokenSource(bound);
        while (true)
        {
            if (WithEventId(eventId) is [var first, ..])
            {
                return first;
            }

            await Task.Delay(20, deadline.Token);
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCollector collector, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            IReadOnlyList<KeyValuePair<string, object?>> properties = state as IReadOnlyList<KeyValuePair<string, object?>> ?? [];
            collector._entries.Enqueue(new LogEntry(category, logLevel, eventId.Id, formatter(state, exception), properties));
        }
    }
}

public sealed record LogEntry(string Category, LogLevel Level, int EventId, string Message, IReadOnlyList<KeyValuePair<string, object?>> Properties)
{
    public object? this[string name] => Properties.FirstOrDefault(p => p.Key == name).Value;
}
