using System.Reflection;
using Microsoft.Extensions.Logging;

namespace PresenceGrid.Silo.Tests;

/// <summary>
/// Log event ids are what operators filter and alert on, so one id names one event across every assembly of the grid
/// (event 3100 once named both a module loading and a failed fan-out batch).
/// </summary>
public sealed class EventIdTests
{
    [Fact]
    public void EveryLoggerMessageOfTheGrid_HasItsOwnEventId()
    {
        Assembly[] grid =
        [
            typeof(SiloApp).Assembly,
            typeof(PresenceGrid.Client.PresenceGridClient).Assembly,
            typeof(PresenceGrid.Hosting.PresenceService).Assembly,
            .. typeof(SiloApp).Assembly.GetReferencedAssemblies()
                .Where(name => name.Name!.StartsWith("PresenceGrid.", StringComparison.Ordinal))
                .Select(Assembly.Load),
        ];
        var events = grid.Distinct()
            .SelectMany(assembly => assembly.GetTypes())
            .SelectMany(type => type.GetMethods(BindingFlags.Static | BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Select(method => (Method: method, Attribute: method.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(m => m.Attribute is not null)
            .Select(m => (m.Attribute!.EventId, Name: $"{m.Method.DeclaringType!.FullName}.{m.Method.Name}"))
            .ToList();

        Assert.True(events.Count > 30, $"found only {events.Count} logger messages: the scan missed assemblies");
        string[] clashes = [.. events.GroupBy(e => e.EventId).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(e => e.Name))}")];
        Assert.True(clashes.Length == 0, "event ids used twice:\n" + string.Join("\n", clashes));
    }
}
