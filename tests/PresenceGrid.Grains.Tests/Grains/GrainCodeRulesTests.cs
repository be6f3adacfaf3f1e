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

public sealed class PresenceStateSerializationTests
{
    [Fact]
    public async Task PresenceState_IsSerializedBySourceGeneratedJson()
    {
        await using var silo = await PresenceTestSilo.StartAsync();
        var options = (Microsoft.Extensions.Options.IOptions<PresenceGrid.Persistence.GrainStateSerializerOptions>)
            silo.Silo.Services.GetService(typeof(Microsoft.Extensions.Options.IOptions<PresenceGrid.Persistence.GrainStateSerializerOptions>))!;
        await silo.Put("@a:test", Matrix.PresenceState.Online);

        var info = options.Value.JsonOptions.GetTypeInfo(typeof(PresenceRecord));

        Assert.Same(PresenceStateJsonContext.Default, info.OriginatingResolver);
        Assert.Same(PresenceStateJsonContext.Default, options.Value.JsonOptions.GetTypeInfo(typeof(RoomRecord)).OriginatingResolver);
    }
}
