using System.IO.Pipelines;
using System.Net;
using System.Text;
using System.Threading.Channels;
using PresenceGrid.Client.Tests.Infrastructure;

namespace PresenceGrid.Client.Tests;

/// <summary>The NDJSON watch stream: incremental parsing, reconnection from the last token, cancellation.</summary>
public sealed class PresenceGridClientWatchTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(250);

    private readonly ManualTimeProvider _time = new();
    private readonly Channel<(RecordedRequest Request, Pipe Body)> _streams = Channel.CreateUnbounded<(RecordedRequest, Pipe)>();

    private static string Line(string sender, string presence, string token) =>
        $$$"""{"events":[{"type":"m.presence","sender":"{{{sender}}}","content":{"presence":"{{{presence}}}"}}],"next_batch":"{{{token}}}"}""" + "\n";

    /// <summary>A handler that opens a new streamed NDJSON answer per request and hands its writer to the test.</summary>
    private FakeHttpHandler StreamingHandler() => new((request, _) => OpenStream(request));

    private Task<HttpResponseMessage> OpenStream(RecordedRequest request)
    {
        var pipe = new Pipe();
        _streams.Writer.TryWrite((request, pipe));
        var content = new StreamContent(pipe.Reader.AsStream());
        content.Headers.ContentType = new("application/x-ndjson");
        return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = content });
    }

    private async Task<(RecordedRequest Request, Pipe Body)> NextStreamAsync() => await _streams.Reader.ReadAsync().AsTask().WaitAsync(Guard);

    private static async Task WriteAsync(Pipe pipe, string text) => await pipe.Writer.WriteAsync(Encoding.UTF8.GetBytes(text));

    [Fact]
    public async Task WatchAsync_YieldsEachLineAsItArrives()
    {
        using var client = TestClients.Create(StreamingHandler(), timeProvider: _time);
        await using var watch = client.WatchAsync("@bob:hs", since: "s0").GetAsyncEnumerator();

        var next = watch.MoveNextAsync().AsTask();
        var (request, body) = await NextStreamAsync();
        Assert.Equal("/v1/watch/%40bob%3Ahs?since=s0", request.PathAndQuery);
        Assert.Equal("application/x-ndjson", request.Accept);

        // A line split across two writes is assembled before it is parsed; the stream stays open throughout.
        var line = Line("@alice:hs", "online", "s1");
        await WriteAsync(body, line[..20]);
        Assert.False(next.IsCompleted);
        await WriteAsync(body, line[20..]);
        Assert.True(await next.WaitAsync(Guard));
        Assert.Equal("s1", watch.Current.NextBatch);
        Assert.Equal(new PresenceEvent("m.presence", "@alice:hs", new PresenceContent(PresenceState.Online)), Assert.Single(watch.Current.Events));

        // Blank keep-alive lines are skipped; two lines in one write give two batches.
        await WriteAsync(body, "\n" + Line("@carol:hs", "unavailable", "s2") + Line("@dave:hs", "offline", "s3"));
        Assert.True(await watch.MoveNextAsync().AsTask().WaitAsync(Guard));
        Assert.Equal("s2", watch.Current.NextBatch);
        Assert.True(await watch.MoveNextAsync().AsTask().WaitAsync(Guard));
        Assert.Equal("s3", watch.Current.NextBatch);
    }

    [Fact]
    public async Task WatchAsync_AfterDroppedStream_ReconnectsToNextEndpointFromLastToken_WithoutDuplicates()
    {
        using var client = TestClients.Create(StreamingHandler(), timeProvider: _time);
        await using var watch = client.WatchAsync("@bob:hs").GetAsyncEnumerator();
        var yielded = new List<string>();

        var next = watch.MoveNextAsync().AsTask();
        var (first, body1) = await NextStreamAsync();
        Assert.Equal("/v1/watch/%40bob%3Ahs", first.PathAndQuery);
        await WriteAsync(body1, Line("@alice:hs", "online", "t1") + Line("@alice:hs", "unavailable", "t2"));
        Assert.True(await next.WaitAsync(Guard));
        yielded.Add(watch.Current.NextBatch);
        Assert.True(await watch.MoveNextAsync().AsTask().WaitAsync(Guard));
        yielded.Add(watch.Current.NextBatch);

        // The connection drops in the middle of the next line: that cut-off line must not be yielded.
        await WriteAsync(body1, Line("@alice:hs", "offline", "t3")[..30]);
        next = watch.MoveNextAsync().AsTask();
        await body1.Writer.CompleteAsync(new IOException("connection reset by peer"));

        // The client backs off on the injected clock before reconnecting.
        await _time.WaitForTimerAsync(FirstBackoff).WaitAsync(Guard);
        Assert.False(_streams.Reader.TryPeek(out _));
        _time.Advance(FirstBackoff);

        var (second, body2) = await NextStreamAsync();
        Assert.Equal(TestClients.EndpointB.Host, second.Uri.Host);
        Assert.Equal("/v1/watch/%40bob%3Ahs?since=t2", second.PathAndQuery);
        await WriteAsync(body2, Line("@alice:hs", "offline", "t3"));
        Assert.True(await next.WaitAsync(Guard));
        yielded.Add(watch.Current.NextBatch);

        Assert.Equal(["t1", "t2", "t3"], yielded);
        Assert.Equal(TestClients.EndpointA.Host, first.Uri.Host);
    }

    [Fact]
    public async Task WatchAsync_WhenServerEndsStream_ReconnectsFromLastToken()
    {
        using var client = TestClients.Create(StreamingHandler(), timeProvider: _time);
        await using var watch = client.WatchAsync("@bob:hs", since: "a0").GetAsyncEnumerator();

        var next = watch.MoveNextAsync().AsTask();
        var (_, body1) = await NextStreamAsync();
        await WriteAsync(body1, Line("@x:hs", "online", "a1"));
        Assert.True(await next.WaitAsync(Guard));

        next = watch.MoveNextAsync().AsTask();
        await body1.Writer.CompleteAsync();
        await _time.WaitForTimerAsync(FirstBackoff).WaitAsync(Guard);
        _time.Advance(FirstBackoff);

        var (second, body2) = await NextStreamAsync();
        Assert.EndsWith("?since=a1", second.PathAndQuery, StringComparison.Ordinal);
        await WriteAsync(body2, Line("@x:hs", "offline", "a2"));
        Assert.True(await next.WaitAsync(Guard));
        Assert.Equal("a2", watch.Current.NextBatch);
    }

    [Fact]
    public async Task WatchAsync_WhenNoEndpointAnswers_RetriesWithDoublingBackoff()
    {
        var handler = new FakeHttpHandler(r => throw FakeHttpHandler.ConnectionRefused(r.Uri));
        using var client = TestClients.Create(handler, timeProvider: _time);
        using var cts = new CancellationTokenSource();
        await using var watch = client.WatchAsync("@bob:hs", cancellationToken: cts.Token).GetAsyncEnumerator();

        var next = watch.MoveNextAsync().AsTask();
        foreach (var delay in new[] { 250, 500, 1000 })
        {
            await _time.WaitForTimerAsync(TimeSpan.FromMilliseconds(delay)).WaitAsync(Guard);
            _time.Advance(TimeSpan.FromMilliseconds(delay));
        }

        await _time.WaitForTimerAsync(TimeSpan.FromMilliseconds(2000)).WaitAsync(Guard);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => next.WaitAsync(Guard));
        Assert.Equal(8, handler.Requests.Count); // 4 rounds over 2 endpoints
    }

    [Fact]
    public async Task WatchAsync_HttpErrorAnswer_EndsWithException_WithoutRetry()
    {
        var handler = new FakeHttpHandler(_ => FakeHttpHandler.Json("""{"errcode":"M_UNKNOWN_TOKEN","error":"who are you"}""", HttpStatusCode.Unauthorized));
        using var client = TestClients.Create(handler, timeProvider: _time);

        var ex = await Assert.ThrowsAsync<PresenceGridApiException>(async () =>
        {
            await foreach (var _ in client.WatchAsync("@bob:hs"))
            {
            }
        });

        Assert.Equal(PresenceGridErrorCodes.UnknownToken, ex.ErrCode);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task WatchAsync_MalformedLine_ThrowsInvalidResponse()
    {
        using var client = TestClients.Create(StreamingHandler(), timeProvider: _time);
        await using var watch = client.WatchAsync("@bob:hs").GetAsyncEnumerator();

        var next = watch.MoveNextAsync().AsTask();
        var (_, body) = await NextStreamAsync();
        await WriteAsync(body, "{\"events\": oops}\n");

        var ex = await Assert.ThrowsAsync<PresenceGridApiException>(() => next.WaitAsync(Guard));
        Assert.Equal(PresenceGridErrorCodes.InvalidResponse, ex.ErrCode);
    }

    [Fact]
    public async Task WatchAsync_ForADevice_StartsItsSync_RenewsTheLeaseWhileOpen_AndStopsItAtTheEnd()
    {
        var handler = new FakeHttpHandler((request, _) => request.Method == HttpMethod.Post
            ? Task.FromResult(FakeHttpHandler.Empty())
            : OpenStream(request));
        using var client = TestClients.Create(handler, o => o.SyncKeepAliveInterval = TimeSpan.FromMinutes(1), timeProvider: _time);
        var watch = client.WatchAsync("@bob:hs", null, "phone").GetAsyncEnumerator();
        string[] Posts() => [.. handler.Requests.Where(r => r.Method == HttpMethod.Post).Select(r => $"{r.PathAndQuery.Split('/')[^1]} {r.Body}")];

        var next = watch.MoveNextAsync().AsTask();
        var (_, body) = await NextStreamAsync();
        await WriteAsync(body, Line("@alice:hs", "online", "s1"));
        Assert.True(await next.WaitAsync(Guard));
        Assert.Equal(["sync {\"state\":\"start\"}"], Posts());

        // Past the silo's 5-minute lease: one renewal a minute while the stream stays open.
        for (var minute = 1; minute <= 6; minute++)
        {
            await _time.WaitForTimerAsync(TimeSpan.FromMinutes(1)).WaitAsync(Guard);
            _time.Advance(TimeSpan.FromMinutes(1));
            await WaitUntilAsync(() => Posts().Count(p => p.StartsWith("keepalive", StringComparison.Ordinal)) == minute);
        }

        await watch.DisposeAsync();

        Assert.Equal(["sync {\"state\":\"start\"}", .. Enumerable.Repeat("keepalive ", 6), "sync {\"state\":\"stop\"}"], Posts());
        Assert.All(handler.Requests.Where(r => r.Method == HttpMethod.Post), r => Assert.StartsWith("/v1/presence/%40bob%3Ahs/devices/phone/", r.PathAndQuery, StringComparison.Ordinal));
    }

    [Fact]
    public async Task WatchAsync_WithoutADevice_SendsNoSyncStartOrRenewal()
    {
        using var client = TestClients.Create(StreamingHandler(), timeProvider: _time);
        await using var watch = client.WatchAsync("@bob:hs").GetAsyncEnumerator();

        var next = watch.MoveNextAsync().AsTask();
        var (request, body) = await NextStreamAsync();
        await WriteAsync(body, Line("@alice:hs", "online", "s1"));
        Assert.True(await next.WaitAsync(Guard));
        _time.Advance(TimeSpan.FromMinutes(6));

        Assert.Equal(HttpMethod.Get, request.Method);
        Assert.DoesNotContain(TimeSpan.FromMinutes(1), _time.ScheduledDueTimes);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Guard;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not hold in time.");
            await Task.Delay(5);
        }
    }

    [Fact]
    public async Task WatchAsync_StopsOnCancellation_WhileWaitingForALine()
    {
        using var client = TestClients.Create(StreamingHandler(), timeProvider: _time);
        using var cts = new CancellationTokenSource();
        await using var watch = client.WatchAsync("@bob:hs", cancellationToken: cts.Token).GetAsyncEnumerator();

        var next = watch.MoveNextAsync().AsTask();
        var (_, body) = await NextStreamAsync();
        await WriteAsync(body, Line("@x:hs", "online", "c1"));
        Assert.True(await next.WaitAsync(Guard));

        next = watch.MoveNextAsync().AsTask();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => next.WaitAsync(Guard));
        Assert.False(_streams.Reader.TryPeek(out _)); // no reconnection
    }

    [Fact]
    public async Task WatchAsync_StopsOnCancellation_DuringBackoff()
    {
        using var client = TestClients.Create(StreamingHandler(), timeProvider: _time);
        using var cts = new CancellationTokenSource();
        await using var watch = client.WatchAsync("@bob:hs", cancellationToken: cts.Token).GetAsyncEnumerator();

        var next = watch.MoveNextAsync().AsTask();
        var (_, body) = await NextStreamAsync();
        await body.Writer.CompleteAsync(new IOException("reset"));
        await _time.WaitForTimerAsync(FirstBackoff).WaitAsync(Guard);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => next.WaitAsync(Guard));
        Assert.False(_streams.Reader.TryPeek(out _));
    }
}
