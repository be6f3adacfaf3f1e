using System.Collections.Concurrent;
using System.Net;
using System.Reflection;
using PresenceGrid.Client;
using PresenceGrid.Client.Orleans;
using PresenceGrid.Grains.Contracts;

namespace PresenceGrid.Silo.Tests;

/// <summary>The Orleans transport without a silo: its options, its watch across a lost gateway, its error mapping.</summary>
public sealed class OrleansPresenceGridClientTests
{
    private static readonly OrleansPresenceGridClientOptions QuickRetries = new()
    {
        WatchReconnectDelay = TimeSpan.FromMilliseconds(1),
        WatchMaxReconnectDelay = TimeSpan.FromMilliseconds(2),
    };

    [Fact]
    public void InvalidOptions_AreRefused_NamingEachField()
    {
        var error = Assert.Throws<ArgumentException>(() => new OrleansPresenceGridClient(
            FakeFrontend.Factory(new FakeFrontend()),
            new OrleansPresenceGridClientOptions { WatchPollTimeout = TimeSpan.Zero, WatchReconnectDelay = TimeSpan.FromSeconds(10) }));

        Assert.Contains("WatchPollTimeout must be positive", error.Message, StringComparison.Ordinal);
        Assert.Contains("WatchMaxReconnectDelay must be at least WatchReconnectDelay", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Watch_AcrossALostGateway_ResumesFromTheLastToken_AndRestartsTheDevicesSync()
    {
        var frontend = new FakeFrontend();
        frontend.Syncs.Enqueue(_ => Batch("t1"));                                           // the first batch, yielded
        frontend.Syncs.Enqueue(_ => Batch("t2", "@a:test"));                                // a change, yielded
        frontend.Syncs.Enqueue(_ => throw new SiloUnavailableException("gateway gone"));   // lost: back off, reconnect
        frontend.Syncs.Enqueue(_ => Batch("t3"));                                           // the first batch after reconnecting, yielded
        frontend.Syncs.Enqueue(_ => Batch("t4"));                                           // no change: not yielded
        frontend.Syncs.Enqueue(_ => Batch("t5", "@b:test"));
        var client = new OrleansPresenceGridClient(FakeFrontend.Factory(frontend), QuickRetries);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));

        var batches = new List<SyncBatch>();
        await foreach (SyncBatch batch in client.WatchAsync("@w:test", "t0", "phone", cts.Token))
        {
            batches.Add(batch);
            if (batches.Count == 4)
            {
                break;
            }
        }

        Assert.Equal(["t1", "t2", "t3", "t5"], batches.Select(b => b.NextBatch));
        Assert.Equal(["t0", "t1", "t2", "t2", "t3", "t4"], frontend.SyncRequests.Select(r => r.Since));
        Assert.Equal([TimeSpan.Zero, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30), TimeSpan.Zero, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30)], frontend.SyncRequests.Select(r => r.Timeout));
        Assert.Equal(["start phone", "start phone", "stop phone"], frontend.DeviceCalls);
    }

    [Fact]
    public async Task Errors_MapToTheHttpClientsTypedExceptions()
    {
        var frontend = new FakeFrontend();
        var client = new OrleansPresenceGridClient(FakeFrontend.Factory(frontend));

        frontend.Error = new PresenceFrontendException(429, "M_LIMIT_EXCEEDED", "presence: too many changes; retry later.", 1500);
        var limited = await Assert.ThrowsAsync<PresenceGridRateLimitedException>(() => client.SetPresenceAsync("@a:test", PresenceState.Online));
        frontend.Error = new PresenceFrontendException(403, "M_FORBIDDEN", "user_id: You are not allowed to see their presence.");
        var forbidden = await Assert.ThrowsAsync<PresenceGridForbiddenException>(() => client.SetPresenceAsync("@a:test", PresenceState.Online));
        frontend.Error = new PresenceFrontendException(503, "IO.PRESENCEGRID.UNAVAILABLE", "the grid cannot serve this request now, retry", 1000);
        var unavailable = await Assert.ThrowsAsync<PresenceGridApiException>(() => client.SetPresenceAsync("@a:test", PresenceState.Online));
        frontend.Error = new SiloUnavailableException("no gateway");
        var unreachable = await Assert.ThrowsAsync<PresenceGridUnavailableException>(() => client.SetPresenceAsync("@a:test", PresenceState.Online));

        Assert.Equal(TimeSpan.FromMilliseconds(1500), limited.RetryAfter);
        Assert.Equal(("M_FORBIDDEN", (HttpStatusCode?)HttpStatusCode.Forbidden), (forbidden.ErrCode, forbidden.StatusCode));
        Assert.Equal(((HttpStatusCode?)HttpStatusCode.ServiceUnavailable, true), (unavailable.StatusCode, unavailable.IsTransient));
        Assert.Equal(("PG_UNAVAILABLE", true), (unreachable.ErrCode, unreachable.IsTransient));
        Assert.IsType<SiloUnavailableException>(Assert.Single(unreachable.InnerExceptions));
    }

    private static SyncResult Batch(string next, params string[] senders) =>
        new([.. senders.Select(s => new PresenceEventResult(s, new PresenceContentResult("online", 5, null, true)))], next);

    /// <summary>A frontend grain in process: syncs answered from a queue, device calls recorded, every other call failing with <see cref="Error"/> if set.</summary>
    private sealed class FakeFrontend : IPresenceFrontendGrain
    {
        public ConcurrentQueue<Func<SyncRequest, SyncResult>> Syncs { get; } = new();

        public ConcurrentQueue<SyncRequest> SyncRequests { get; } = new();

        public ConcurrentQueue<string> DeviceCalls { get; } = new();

        public Exception? Error { get; set; }

        public static IGrainFactory Factory(FakeFrontend frontend)
        {
            IGrainFactory factory = DispatchProxy.Create<IGrainFactory, FactoryProxy>();
            ((FactoryProxy)factory).Frontend = frontend;
            return factory;
        }

        public Task SetPresence(SetPresenceRequest request) => Error is null ? Task.CompletedTask : Task.FromException(Error);

        public Task<PresenceContentResult> GetPresence(string userId, string? requester) => throw new NotSupportedException();

        public Task SetSyncing(string userId, string deviceId, bool start, string? setPresence)
        {
            DeviceCalls.Enqueue($"{(start ? "start" : "stop")} {deviceId}");
            return Task.CompletedTask;
        }

        public Task MarkActive(string userId, string deviceId) => throw new NotSupportedException();

        public Task KeepAlive(string userId, string deviceId) => throw new NotSupportedException();

        public Task<SyncResult> Sync(SyncRequest request, CancellationToken cancellationToken)
        {
            SyncRequests.Enqueue(request);
            if (!Syncs.TryDequeue(out var answer))
            {
                return Task.Delay(Timeout.Infinite, cancellationToken).ContinueWith<SyncResult>(_ => throw new OperationCanceledException(cancellationToken), TaskScheduler.Default);
            }

            try
            {
                return Task.FromResult(answer(request));
            }
            catch (Exception ex)
            {
                return Task.FromException<SyncResult>(ex);
            }
        }

        public Task SetMembership(string roomId, string userId, string membership) => throw new NotSupportedException();

        public Task<FederationItemErrorResult[]> ReceiveFederation(string origin, FederationPresenceItem[] push) => throw new NotSupportedException();

        public Task<OutgoingEduResult[]> TakeOutgoing(string destination, int limit) => throw new NotSupportedException();

        public Task SendLocalOnlinePresenceTo(string[] users) => throw new NotSupportedException();

        public Task SetPresenceForUsers(UserPresenceInput[] users) => throw new NotSupportedException();

        public Task<ExplanationResult> Explain(string from, string to) => throw new NotSupportedException();

        public Task<ClusterResult> GetCluster() => throw new NotSupportedException();

        public Task<string> Health() => Task.FromResult("ok");
    }

    /// <summary>An <see cref="IGrainFactory"/> whose every <c>GetGrain</c> is the fake frontend.</summary>
    public class FactoryProxy : DispatchProxy
    {
        internal IPresenceFrontendGrain? Frontend { get; set; }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
            targetMethod?.Name == nameof(IGrainFactory.GetGrain) ? Frontend : throw new NotSupportedException(targetMethod?.Name);
    }
}
