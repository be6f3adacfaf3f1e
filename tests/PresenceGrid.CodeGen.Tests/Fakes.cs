using System.Reflection;
using System.Text.RegularExpressions;
using PresenceGrid.Invocation;
using PresenceGrid.Persistence;

namespace PresenceGrid.CodeGen.Tests;

internal sealed class FakeSink : IGrainCallSink
{
    public List<(GrainReference Target, GrainRequest Request)> Sent { get; } = [];

    public GrainRequest Last => Sent[^1].Request;

    public void Send(GrainReference target, GrainRequest request) => Sent.Add((target, request));
}

internal sealed class FakeGrainContext(GrainId grainId, IServiceProvider services) : IGrainContext
{
    public GrainId GrainId { get; } = grainId;

    public Guid ActivationId { get; } = Guid.NewGuid();

    public IGrainFactory GrainFactory => throw new NotSupportedException();

    public IServiceProvider ActivationServices { get; } = services;

    public void DeactivateOnIdle()
    {
    }

    public void DelayDeactivation(TimeSpan timeSpan)
    {
    }

    public IGrainTimer RegisterGrainTimer<TState>(Func<TState, CancellationToken, Task> callback, TState state, GrainTimerCreationOptions options) =>
        throw new NotSupportedException();
}

internal sealed class FakePersistentState<TState>(TState state) : IPersistentState<TState>
{
    public TState State { get; set; } = state;

    public string? Etag => null;

    public bool RecordExists => false;

    public Task ReadStateAsync() => Task.CompletedTask;

    public Task WriteStateAsync() => Task.CompletedTask;

    public Task ClearStateAsync() => Task.CompletedTask;
}

internal sealed class FakeActivationContext(IServiceProvider services) : IGrainActivationContext
{
    public IServiceProvider Services { get; } = services;

    public List<(string StateName, string? StorageName, Type StateType, object? DefaultState)> StatesRequested { get; } = [];

    public IPersistentState<TState> GetPersistentState<TState>(string stateName, string? storageName, Func<TState> createDefault)
    {
        TState initial = createDefault();
        StatesRequested.Add((stateName, storageName, typeof(TState), initial));
        return new FakePersistentState<TState>(initial);
    }
}

internal static partial class RequestFields
{
    /// <summary>The generated public fields Arg0..ArgN of a request (tests only; the runtime never reflects).</summary>
    public static object?[] Args(GrainRequest request) =>
        [.. request.GetType()
            .GetFields(BindingFlags.Public | BindingFlags.Instance)
            .Where(f => ArgName().IsMatch(f.Name))
            .OrderBy(f => int.Parse(f.Name.AsSpan(3), System.Globalization.CultureInfo.InvariantCulture))
            .Select(f => f.GetValue(request))];

    [GeneratedRegex("^Arg[0-9]+$")]
    private static partial Regex ArgName();
}
