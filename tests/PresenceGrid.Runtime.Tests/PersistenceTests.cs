using Microsoft.Extensions.Options;
using PresenceGrid.Concurrency;
using PresenceGrid.Invocation;
using PresenceGrid.Persistence;
using PresenceGrid.Runtime.Configuration;
using PresenceGrid.Runtime.Persistence;
using PresenceGrid.Testing;

namespace PresenceGrid.Runtime.Tests;

public sealed class PersistenceTests : IAsyncLifetime
{
    private InProcessSilo _silo = null!;

    public async Task InitializeAsync() => _silo = await InProcessSilo.StartAsync(silo => silo.AddMemoryGrainStorage());

    public async Task DisposeAsync() => await _silo.DisposeAsync();

    private IGrainStorage Storage => _silo.Services.GetRequiredKeyedService<IGrainStorage>(GrainStorageNames.Default);

    private MemoryGrainStorage NewMemoryStorage() => new("test", _silo.Services.GetRequiredService<IGrainStateSerializer>());

    [Fact]
    public async Task State_SurvivesDeactivation_AndLoadsBeforeFirstCall()
    {
        var grain = _silo.GrainFactory.GetGrain<IProfileGrain>(Guid.NewGuid().ToString());
        ProfileSnapshot fresh = await grain.Get();
        Assert.False(fresh.RecordExists);
        Assert.Null(fresh.Etag);
        Assert.Null(fresh.Name);

        await grain.SetName("alice");
        ProfileSnapshot written = await grain.Get();
        await grain.Deactivate();
        ProfileSnapshot reloaded = await grain.Get();

        Assert.NotEqual(written.ActivationId, reloaded.ActivationId);
        Assert.Equal("alice", reloaded.Name);
        Assert.Equal(1, reloaded.Writes);
        Assert.True(reloaded.RecordExists);
        Assert.NotNull(reloaded.Etag);
        Assert.Equal(written.Etag, reloaded.Etag);
    }

    [Fact]
    public async Task UnsavedChanges_DoNotLeakIntoStorage()
    {
        string key = Guid.NewGuid().ToString();
        var grain = _silo.GrainFactory.GetGrain<IProfileGrain>(key);
        await grain.SetName("saved");

        var read = new TestGrainState<ProfileState>();
        await Storage.ReadStateAsync("profile", new GrainId("profile", key), read);
        read.State.Name = "changed in memory only";
        var again = new TestGrainState<ProfileState>();
        await Storage.ReadStateAsync("profile", new GrainId("profile", key), again);

        Assert.Equal("saved", again.State.Name);
    }

    [Fact]
    public async Task Clear_RemovesRecord()
    {
        var grain = _silo.GrainFactory.GetGrain<IProfileGrain>(Guid.NewGuid().ToString());
        await grain.SetName("bob");

        await grain.Clear();
        await grain.Deactivate();
        ProfileSnapshot after = await grain.Get();

        Assert.False(after.RecordExists);
        Assert.Null(after.Name);
        Assert.Null(after.Etag);
    }

    [Fact]
    public async Task StaleEtag_WriteFailsWithInconsistentState_AndGrainReloads()
    {
        string key = Guid.NewGuid().ToString();
        var grain = _silo.GrainFactory.GetGrain<IProfileGrain>(key);
        await grain.SetName("first");
        ProfileSnapshot before = await grain.Get();

        // Another writer (a stale or rival activation) changes the record behind the grain's back.
        var rival = new TestGrainState<ProfileState>();
        await Storage.ReadStateAsync("profile", new GrainId("profile", key), rival);
        rival.State.Name = "rival";
        await Storage.WriteStateAsync("profile", new GrainId("profile", key), rival);

        var conflict = await Assert.ThrowsAsync<InconsistentStateException>(() => grain.SetName("second"));
        Assert.Equal(rival.ETag, conflict.StoredEtag);
        Assert.Equal(before.Etag, conflict.CurrentEtag);
        Assert.Contains("profile", conflict.Message);

        ProfileSnapshot after = await grain.Get();
        Assert.NotEqual(before.ActivationId, after.ActivationId);
        Assert.Equal("rival", after.Name);
    }

    [Fact]
    public async Task MemoryStorage_EnforcesEtags()
    {
        MemoryGrainStorage storage = NewMemoryStorage();
        var id = new GrainId("profile", "etags");
        var first = new TestGrainState<ProfileState> { State = new ProfileState { Name = "a" } };
        await storage.WriteStateAsync("s", id, first);
        var stale = new TestGrainState<ProfileState> { State = new ProfileState { Name = "b" } };

        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("s", id, stale));
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync("s", id, stale));

        string? etag = first.ETag;
        first.State.Name = "c";
        await storage.WriteStateAsync("s", id, first);
        Assert.NotEqual(etag, first.ETag);

        // A refused write changes nothing.
        var olderCopy = new TestGrainState<ProfileState> { State = new ProfileState { Name = "d" }, ETag = etag };
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("s", id, olderCopy));
        var read = new TestGrainState<ProfileState>();
        await storage.ReadStateAsync("s", id, read);
        Assert.Equal(("c", first.ETag), (read.State.Name, read.ETag));

        await storage.ClearStateAsync("s", id, first);
        Assert.False(first.RecordExists);
        Assert.Equal(0, storage.Count);

        // After the clear, a writer that still holds an ETag is refused and stores nothing; one without creates the record anew.
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("s", id, olderCopy));
        Assert.Equal(0, storage.Count);
        await storage.WriteStateAsync("s", id, first);
        Assert.Equal(1, storage.Count);
    }

    [Fact]
    public async Task MemoryStorage_KeepsAnImmutableStateItself_ButAMutableOneAsACopy()
    {
        MemoryGrainStorage storage = NewMemoryStorage();
        var id = new GrainId("profile", "copies");

        var mutable = new TestGrainState<ProfileState> { State = new ProfileState { Name = "before" } };
        await storage.WriteStateAsync("mutable", id, mutable);
        mutable.State.Name = "changed after the write";
        var mutableRead = new TestGrainState<ProfileState>();
        await storage.ReadStateAsync("mutable", id, mutableRead);
        Assert.Equal("before", mutableRead.State.Name);
        Assert.NotSame(mutable.State, mutableRead.State);

        var frozen = new TestGrainState<FrozenState> { State = new FrozenState("kept") };
        await storage.WriteStateAsync("frozen", id, frozen);
        var frozenRead = new TestGrainState<FrozenState>();
        await storage.ReadStateAsync("frozen", id, frozenRead);
        Assert.Same(frozen.State, frozenRead.State);
        Assert.Equal(frozen.ETag, frozenRead.ETag);
        Assert.True(frozenRead.RecordExists);

        // ETags still guard an immutable state: a writer holding an old ETag is refused.
        frozen.State = new FrozenState("second");
        await storage.WriteStateAsync("frozen", id, frozen);
        var stale = new TestGrainState<FrozenState> { State = new FrozenState("stale"), ETag = frozenRead.ETag, RecordExists = true };
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("frozen", id, stale));
        IReadOnlyList<KeyValuePair<GrainId, FrozenState>> all = await storage.ReadAllAsync<FrozenState>("frozen", "profile", CancellationToken.None);
        Assert.Same(frozen.State, Assert.Single(all).Value);
    }

    [Fact]
    public void GrainJson_ToUtf8Bytes_GivesNestedCallsTheirOwnBuffer_AndForgetsLargeOnes()
    {
        byte[] outer = GrainJson.ToUtf8Bytes(7, static (writer, n) =>
        {
            writer.WriteStartArray();
            writer.WriteNumberValue(n);
            byte[] inner = GrainJson.ToUtf8Bytes("in", static (w, s) => w.WriteStringValue(s));
            writer.WriteRawValue(inner);
            writer.WriteEndArray();
        });
        Assert.Equal("""[7,"in"]""", System.Text.Encoding.UTF8.GetString(outer));

        string big = new('x', 200_000);
        byte[] large = GrainJson.ToUtf8Bytes(big, static (w, s) => w.WriteStringValue(s));
        Assert.Equal(big.Length + 2, large.Length);
        byte[] small = GrainJson.ToUtf8Bytes(true, static (w, b) => w.WriteBooleanValue(b));
        Assert.Equal("true", System.Text.Encoding.UTF8.GetString(small));
    }

    [Fact]
    public async Task MissingStorageProvider_FailsActivation_NamingTheProvider()
    {
        await using var silo = await InProcessSilo.StartAsync();
        var grain = silo.GrainFactory.GetGrain<IProfileGrain>("nostorage");

        var error = await Assert.ThrowsAsync<GrainActivationException>(() => Eventually.Within(grain.Get()));

        Assert.Contains("'Default'", error.Message);
        Assert.Contains("AddMemoryGrainStorage", error.Message);
    }

    [Fact]
    public async Task InvalidOptions_StopStartup_NamingTheField()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => InProcessSilo.StartAsync(silo => silo
            .Configure<GrainCollectionOptions>(o => o.CollectionAge = TimeSpan.FromSeconds(30))));

        Assert.Contains("GrainCollectionOptions.CollectionAge", error.Message);
        Assert.Contains("CollectionQuantum", error.Message);
    }

    [Fact]
    public async Task InvalidMessagingOptions_StopStartup_NamingEveryBadField()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => InProcessSilo.StartAsync(silo => silo
            .Configure<SiloMessagingOptions>(o =>
            {
                o.ResponseTimeout = TimeSpan.Zero;
                o.MaxEnqueuedRequests = -1;
            })));

        Assert.Contains("SiloMessagingOptions.ResponseTimeout", error.Message);
        Assert.Contains("SiloMessagingOptions.MaxEnqueuedRequests", error.Message);
    }
}

internal sealed class TestGrainState<T> : IGrainState<T>
    where T : new()
{
    public T State { get; set; } = new();

    public string? ETag { get; set; }

    public bool RecordExists { get; set; }
}

/// <summary>A state type that in-memory storage may keep by reference.</summary>
[Immutable]
public sealed record FrozenState(string Name)
{
    /// <summary>An empty state (what storage gives before the first write).</summary>
    public FrozenState()
        : this(string.Empty)
    {
    }
}
