using Microsoft.Extensions.Logging;
using PresenceGrid.Matrix;

namespace PresenceGrid.Routing;

/// <summary>What every <see cref="ModuleApi"/> instance shares: the operations seam, the local server names, logging and the clock.</summary>
internal sealed class ModuleHost
{
    private readonly HashSet<ServerName> _localServerNameSet;

    public ModuleHost(IPresenceModuleOperations operations, IEnumerable<ServerName> localServerNames, ILoggerFactory loggerFactory, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(operations);
        ArgumentNullException.ThrowIfNull(localServerNames);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        ArgumentNullException.ThrowIfNull(timeProvider);
        Operations = operations;
        var names = localServerNames.Distinct().ToArray();
        if (names.Length == 0)
        {
            throw new ArgumentException("At least one local server name is required.", nameof(localServerNames));
        }

        LocalServerNames = Array.AsReadOnly(names);
        _localServerNameSet = [.. names];
        LoggerFactory = loggerFactory;
        TimeProvider = timeProvider;
    }

    public IPresenceModuleOperations Operations { get; }

    public IReadOnlyCollection<ServerName> LocalServerNames { get; }

    public ILoggerFactory LoggerFactory { get; }

    public TimeProvider TimeProvider { get; }

    public bool IsMine(UserId userId) => _localServerNameSet.Contains(userId.Server);
}
