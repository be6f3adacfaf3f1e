using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace PresenceGrid.Invocation;

/// <summary>
/// One call of one grain method: its arguments, how to invoke it on a grain, and where its
/// response goes. The source generator emits one sealed subclass per interface method; the
/// runtime queues, invokes and completes it without reflection. Requests are serializable
/// (arguments and results as JSON through <see cref="JsonSerializerOptions"/> type info) so the
/// same object model crosses silos.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public abstract class GrainRequest
{
    private int _completed;

    /// <summary>The method this request calls.</summary>
    public abstract GrainMethodDescriptor Method { get; }

    /// <summary>The reference the call was made on (set when the request is sent).</summary>
    public GrainReference? Target { get; set; }

    /// <summary>The target grain.</summary>
    public GrainId TargetId => Target?.GrainId ?? default;

    /// <summary>Runtime-owned: a deadline timestamp of the runtime's time provider, 0 for none.</summary>
    public long Deadline { get; set; }

    /// <summary>Runtime-owned: how many times the request was forwarded between silos.</summary>
    public int ForwardCount { get; set; }

    /// <summary>Runtime-owned: the call chain this request belongs to, for diagnostics.</summary>
    public object? RuntimeState { get; set; }

    /// <summary>Runtime-owned links for the in-flight list (timeouts); not for application code.</summary>
    public GrainRequest? InFlightNext { get; set; }

    /// <summary>Runtime-owned links for the in-flight list (timeouts); not for application code.</summary>
    public GrainRequest? InFlightPrevious { get; set; }

    /// <summary>True once a response (result, exception or rejection) was delivered to the caller.</summary>
    public bool IsCompleted => Volatile.Read(ref _completed) != 0;

    /// <summary>Calls the method on <paramref name="target"/> and returns the call's task.</summary>
    /// <param name="target">The grain instance.</param>
    /// <returns>The grain method's task.</returns>
    public abstract Task Invoke(object target);

    /// <summary>Delivers the outcome of a finished <see cref="Invoke"/> task to the caller.</summary>
    /// <param name="invocation">The finished task.</param>
    public void CompleteFrom(Task invocation)
    {
        if (!TryClaim())
        {
            return;
        }

        if (invocation.IsCompletedSuccessfully)
        {
            SetResultFrom(invocation);
        }
        else if (invocation.IsCanceled)
        {
            SetExceptionCore(new TaskCanceledException(invocation));
        }
        else
        {
            Exception? exception = invocation.Exception?.InnerExceptions.Count == 1 ? invocation.Exception.InnerException : invocation.Exception;
            SetExceptionCore(exception ?? new InvalidOperationException("The grain call faulted without an exception."));
        }
    }

    /// <summary>Fails the call for the caller (rejection, timeout, activation failure).</summary>
    /// <param name="exception">What the caller gets.</param>
    /// <returns>False when the call had already completed.</returns>
    public bool TryFail(Exception exception)
    {
        if (!TryClaim())
        {
            return false;
        }

        SetExceptionCore(exception);
        return true;
    }

    /// <summary>Writes the arguments as a JSON array.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="options">Options whose type info resolves every argument type.</param>
    public abstract void WriteArguments(Utf8JsonWriter writer, JsonSerializerOptions options);

    /// <summary>Reads the arguments from a JSON array written by <see cref="WriteArguments"/>.</summary>
    /// <param name="reader">The reader, on the array's start.</param>
    /// <param name="options">Options whose type info resolves every argument type.</param>
    public abstract void ReadArguments(ref Utf8JsonReader reader, JsonSerializerOptions options);

    /// <summary>The caller's task (null for one-way calls): completes with the response.</summary>
    public virtual Task? CallerTask => null;

    /// <summary>Writes the successful response of <see cref="CallerTask"/> as JSON (nothing for calls without a result).</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="options">Options whose type info resolves the result type.</param>
    public virtual void WriteResponse(Utf8JsonWriter writer, JsonSerializerOptions options)
    {
    }

    /// <summary>Completes the caller with a response that arrived from another silo (written by <see cref="WriteResponse"/>).</summary>
    /// <param name="json">The response JSON (empty for calls without a result).</param>
    /// <param name="options">Options whose type info resolves the result type.</param>
    public virtual void CompleteFromResponse(ReadOnlySpan<byte> json, JsonSerializerOptions options)
    {
    }

    /// <summary>Copies a successful result of <paramref name="invocation"/> to the caller.</summary>
    /// <param name="invocation">The finished, successful task.</param>
    protected abstract void SetResultFrom(Task invocation);

    /// <summary>Fails the caller's task.</summary>
    /// <param name="exception">The exception.</param>
    protected abstract void SetExceptionCore(Exception exception);

    /// <summary>Claims the single completion of this request; false when it was already completed.</summary>
    /// <returns>True for the first caller.</returns>
    protected bool TryClaim() => Interlocked.Exchange(ref _completed, 1) == 0;

    /// <inheritdoc />
    public override string ToString() => $"{Method.DisplayName} to {TargetId}";
}

/// <summary>A request whose method returns a value.</summary>
/// <typeparam name="TResult">The result type.</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public abstract class GrainRequest<TResult> : GrainRequest
{
    private AsyncTaskMethodBuilder<TResult> _builder;

    /// <summary>Creates the request and its response task.</summary>
    protected GrainRequest()
    {
        _builder = AsyncTaskMethodBuilder<TResult>.Create();
        _ = _builder.Task;
    }

    /// <summary>The caller's task.</summary>
    public Task<TResult> ResponseTask => _builder.Task;

    /// <inheritdoc />
    public override Task? CallerTask => _builder.Task;

    /// <inheritdoc />
    public override void WriteResponse(Utf8JsonWriter writer, JsonSerializerOptions options) =>
        GrainJson.Write(writer, ResponseTask.Result, options);

    /// <inheritdoc />
    public override void CompleteFromResponse(ReadOnlySpan<byte> json, JsonSerializerOptions options)
    {
        var reader = new Utf8JsonReader(json);
        SetResult(GrainJson.Read<TResult>(ref reader, options));
    }

    /// <summary>Delivers a result that arrived from elsewhere (another silo).</summary>
    /// <param name="result">The result.</param>
    public void SetResult(TResult result)
    {
        if (TryClaim())
        {
            _builder.SetResult(result);
        }
    }

    /// <summary>Writes the successful result of <paramref name="invocation"/> as JSON.</summary>
    /// <param name="invocation">The finished, successful task.</param>
    /// <param name="writer">The writer.</param>
    /// <param name="options">Options whose type info resolves <typeparamref name="TResult"/>.</param>
    public static void WriteResult(Task invocation, Utf8JsonWriter writer, JsonSerializerOptions options) =>
        GrainJson.Write(writer, ((Task<TResult>)invocation).Result, options);

    /// <inheritdoc />
    protected sealed override void SetResultFrom(Task invocation) => _builder.SetResult(((Task<TResult>)invocation).Result);

    /// <inheritdoc />
    protected sealed override void SetExceptionCore(Exception exception) => _builder.SetException(exception);
}

/// <summary>A request whose method returns no value.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public abstract class GrainVoidRequest : GrainRequest
{
    private AsyncTaskMethodBuilder _builder;

    /// <summary>Creates the request and its response task.</summary>
    protected GrainVoidRequest()
    {
        _builder = AsyncTaskMethodBuilder.Create();
        _ = _builder.Task;
    }

    /// <summary>The caller's task.</summary>
    public Task ResponseTask => _builder.Task;

    /// <inheritdoc />
    public override Task? CallerTask => _builder.Task;

    /// <inheritdoc />
    public override void CompleteFromResponse(ReadOnlySpan<byte> json, JsonSerializerOptions options)
    {
        if (TryClaim())
        {
            _builder.SetResult();
        }
    }

    /// <inheritdoc />
    protected sealed override void SetResultFrom(Task invocation) => _builder.SetResult();

    /// <inheritdoc />
    protected sealed override void SetExceptionCore(Exception exception) => _builder.SetException(exception);
}

/// <summary>A <c>[OneWay]</c> request: nothing goes back to the caller.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public abstract class GrainOneWayRequest : GrainRequest
{
    /// <inheritdoc />
    protected sealed override void SetResultFrom(Task invocation)
    {
    }

    /// <inheritdoc />
    protected sealed override void SetExceptionCore(Exception exception)
    {
    }
}
