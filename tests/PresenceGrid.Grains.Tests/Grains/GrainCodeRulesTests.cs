namespace PresenceGrid.Grains.Tests;

/// <summary>Rules for grain code that the compiler does not check.</summary>
public sealed class GrainCodeRulesTests
{
    private static string RepoRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "PresenceGrid.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("PresenceGrid.sln not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void GrainClasses_NeverLeaveTheirTurn_WithConfigureAwaitFalse_OrBlock()
    {
        string grains = Path.Combine(RepoRoot(), "src", "PresenceGrid.Grains");
        var grainFiles = Directory.EnumerateFiles(grains, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Where(f => File.ReadAllText(f).Contains(": Grain,", StringComparison.Ordinal) || File.ReadAllText(f).Contains(") : Grain", StringComparison.Ordinal))
            .ToList();

        Assert.True(grainFiles.Count >= 4, $"expected the grain classes, found {grainFiles.Count}");
        foreach (string file in grainFiles)
        {
            string text = File.ReadAllText(file);
            Assert.False(text.Contains("ConfigureAwait(false)", StringComparison.Ordinal), $"{file} uses ConfigureAwait(false) in grain code");
            Assert.False(text.Contains(".Result", StringComparison.Ordinal) || text.Contains(".Wait()", StringComparison.Ordinal), $"{file} blocks in grain code");
        }
    }
}

public sealed class PresenceSerializationTests
{
    [Fact]
    public async Task GrainCallTypes_RoundTripThroughOrleansSerializer_AndMatrixTypesAreNotCopiedInsideASilo()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        var serializer = silo.Services.GetRequiredService<Orleans.Serialization.Serializer>();
        var copier = silo.Services.GetRequiredService<Orleans.Serialization.DeepCopier>();
        var state = new Matrix.UserPresenceState(Matrix.UserId.Parse("@a:test"), Matrix.PresenceState.Busy, 1, 2, 3, "hi", true);
        var update = new Matrix.FederationPresenceUpdate(Matrix.UserId.Parse("@b:remote"), Matrix.PresenceState.Unavailable, 5, null, false);
        var record = new PresenceRecord { State = "online", LastActiveTs = 7, StatusMsg = "s", Mirrored = true };

        Assert.Equal(state, serializer.Deserialize<Matrix.UserPresenceState>(serializer.SerializeToArray(state)));
        Assert.Equal(update, serializer.Deserialize<Matrix.FederationPresenceUpdate>(serializer.SerializeToArray(update)));
        Assert.Equal(new PresenceCommandResult(PresenceCommandOutcome.RateLimited, 9), serializer.Deserialize<PresenceCommandResult>(serializer.SerializeToArray(new PresenceCommandResult(PresenceCommandOutcome.RateLimited, 9))));
        PresenceRecord back = serializer.Deserialize<PresenceRecord>(serializer.SerializeToArray(record))!;
        Assert.Equal((record.State, record.LastActiveTs, record.StatusMsg, record.Mirrored), (back.State, back.LastActiveTs, back.StatusMsg, back.Mirrored));
        Replication.ReplicaBatch batch = new(SiloAddress.New(System.Net.IPAddress.Loopback, 11111, 3), 42, [
            Replication.ReplicaItem.ForState(state),
            Replication.ReplicaItem.ForState(state, mirrored: true),
            Replication.ReplicaItem.ForMembership("!r:test", state.UserId, joined: true),
            Replication.ReplicaItem.ForInviteOrKnock("!r:test", update.UserId),
            Replication.ReplicaItem.ForFullPresence(state.UserId)]);
        Replication.ReplicaBatch batchBack = serializer.Deserialize<Replication.ReplicaBatch>(serializer.SerializeToArray(batch))!;
        Assert.Equal(batch.Items, batchBack.Items);
        Assert.Equal((batch.Sender, batch.Sequence), (batchBack.Sender, batchBack.Sequence));
        Assert.True(batchBack.Items[1].Mirrored);
        Assert.False(batchBack.Items[0].Mirrored);
        Assert.Same(batch, copier.Copy(batch));
        Assert.Same(state, copier.Copy(state));
        Assert.Same(state.UserId, copier.Copy(state.UserId));
    }

    [Fact]
    public async Task AStateFromANewerSilo_WithAnUnknownPresence_IsRefused()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        var serializer = silo.Services.GetRequiredService<Orleans.Serialization.Serializer>();
        byte[] bytes = serializer.SerializeToArray(new Matrix.UserPresenceState(Matrix.UserId.Parse("@a:test"), (Matrix.PresenceState)9, 0, 0, 0, null, false));

        Exception refused = Assert.ThrowsAny<Exception>(() => { _ = serializer.Deserialize<Matrix.UserPresenceState>(bytes); });
        Assert.Contains("not a presence value", refused.ToString(), StringComparison.Ordinal);
    }
}
