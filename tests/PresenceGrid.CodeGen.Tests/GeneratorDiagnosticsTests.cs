using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace PresenceGrid.CodeGen.Tests;

/// <summary>Runs <see cref="GrainCodeGenerator"/> with a <see cref="CSharpGeneratorDriver"/> over small sources.</summary>
public sealed class GeneratorDiagnosticsTests
{
    private const string Prelude = """
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using PresenceGrid;
        using PresenceGrid.Concurrency;
        using PresenceGrid.Persistence;

        namespace Sample;

        """;

    private static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
    {
        string testAssembly = typeof(GeneratorDiagnosticsTests).Assembly.Location;
        string abstractions = typeof(IGrain).Assembly.Location;
        IEnumerable<string> framework = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Where(p => !string.Equals(p, testAssembly, StringComparison.Ordinal) && !string.Equals(p, abstractions, StringComparison.Ordinal));
        return [.. framework.Append(abstractions).Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))];
    });

    private static (ImmutableArray<Diagnostic> Diagnostics, Compilation Output, GeneratorRunResult Result) Run(string source, bool withAbstractions = true)
    {
        IEnumerable<MetadataReference> references = withAbstractions
            ? References.Value
            : References.Value.Where(r => !string.Equals(r.Display, typeof(IGrain).Assembly.Location, StringComparison.Ordinal));
        CSharpCompilation compilation = CSharpCompilation.Create(
            "Sample.Grains",
            [CSharpSyntaxTree.ParseText(Prelude + source, ParseOptions, path: "Sample.cs")],
            references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            [new GrainCodeGenerator().AsSourceGenerator()],
            parseOptions: ParseOptions);
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> diagnostics);
        return (diagnostics, output, driver.GetRunResult().Results.Single());
    }

    private static void AssertDiagnostic(string id, string source, string messagePart)
    {
        (ImmutableArray<Diagnostic> diagnostics, _, _) = Run(source);
        Diagnostic diagnostic = Assert.Single(diagnostics, d => d.Id == id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal("PresenceGrid.CodeGen", diagnostic.Descriptor.Category);
        Assert.Contains(messagePart, diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.Equal("Sample.cs", diagnostic.Location.GetLineSpan().Path);
        Assert.True(diagnostic.Location.GetLineSpan().StartLinePosition.Line >= Prelude.Split('\n').Length - 1, $"{id} should point into the sample source");
    }

    private const string ValidSource = """
        public sealed record Point(int X, int Y);

        public sealed class Settings
        {
            public int Value { get; set; }
        }

        public interface IService
        {
        }

        public interface IPlainBase<T>
        {
            Task<T> FromPlainBase(T value);
        }

        public interface IShape : IGrainWithStringKey
        {
            Task<int> Area();

            Task<Point?> Center(Point? hint, string? label, int? count);
        }

        public interface IPolygon : IShape, IPlainBase<int>
        {
            [OneWay]
            ValueTask Notify(string message);

            [ReadOnly]
            ValueTask<string> Name();

            [AlwaysInterleave]
            Task Send(int value = 5);

            Task<bool> Equals(string other);

            Task<int> Area(int scale);

            [Obsolete("old")]
            Task Old();

            new Task<int> Area();

            Task<(int A, string B)> Pair((int, string) value, int[] values, System.Collections.Generic.List<Point> points);

            Task @class(string @event);
        }

        public static class Nested
        {
            public interface IShape : IGrainWithStringKey
            {
                Task<int> Area();
            }
        }

        public class Outer
        {
            internal interface IInner : IGrainWithStringKey
            {
                Task Go();
            }
        }

        [Reentrant]
        [StatelessWorker(4)]
        public sealed class PolygonGrain : Grain, IPolygon, Nested.IShape, Outer.IInner
        {
            public PolygonGrain(IService service, [PersistentState("shape", "store")] IPersistentState<Settings> settings, IService? optional, [PersistentState("pt")] IPersistentState<Settings?> point)
            {
            }

            public PolygonGrain()
            {
            }

            public Task<int> Area() => Task.FromResult(1);
            public Task<Point?> Center(Point? hint, string? label, int? count) => Task.FromResult(hint);
            public Task<int> FromPlainBase(int value) => Task.FromResult(value);
            public ValueTask Notify(string message) => default;
            public ValueTask<string> Name() => new("p");
            public Task Send(int value = 5) => Task.CompletedTask;
            public Task<bool> Equals(string other) => Task.FromResult(false);
            public Task<int> Area(int scale) => Task.FromResult(scale);
            public Task Old() => Task.CompletedTask;
            public Task<(int A, string B)> Pair((int, string) value, int[] values, System.Collections.Generic.List<Point> points) => Task.FromResult((1, "b"));
            public Task @class(string @event) => Task.CompletedTask;
            public Task Go() => Task.CompletedTask;
        }

        public abstract class AbstractGrain : Grain, IShape
        {
            public abstract Task<int> Area();
            public Task<Point?> Center(Point? hint, string? label, int? count) => Task.FromResult(hint);
        }
        """;

    [Fact]
    public void Valid_input_has_no_diagnostics_and_compiles_without_warnings()
    {
        (ImmutableArray<Diagnostic> diagnostics, Compilation output, GeneratorRunResult result) = Run(ValidSource);

        Assert.Empty(diagnostics);
        SyntaxTree generated = Assert.Single(result.GeneratedSources).SyntaxTree;
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Warning && d.Location.SourceTree == generated));

        string text = generated.ToString();
        Assert.Contains("// <auto-generated/>", text, StringComparison.Ordinal);
        Assert.Contains("[global::System.Runtime.CompilerServices.ModuleInitializer]", text, StringComparison.Ordinal);
        Assert.Contains("MapInterface<global::Sample.Nested.IShape>(\"polygon\")", text, StringComparison.Ordinal);
        Assert.Contains("ctx.GetPersistentState<global::Sample.Settings>(\"shape\", \"store\", static () => new global::Sample.Settings())", text, StringComparison.Ordinal);
        Assert.Contains("GetService<global::Sample.IService>(ctx.Services)", text, StringComparison.Ordinal);
        Assert.DoesNotContain("AbstractGrain", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Output_is_deterministic()
    {
        string first = Run(ValidSource).Result.GeneratedSources.Single().SourceText.ToString();
        string second = Run(ValidSource).Result.GeneratedSources.Single().SourceText.ToString();

        Assert.Equal(first, second);
    }

    [Fact]
    public void Unrelated_edits_reuse_the_cached_output()
    {
        CSharpCompilation compilation = CSharpCompilation.Create(
            "Sample.Grains",
            [CSharpSyntaxTree.ParseText(Prelude + ValidSource, ParseOptions, path: "Sample.cs")],
            References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            [new GrainCodeGenerator().AsSourceGenerator()],
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
        driver = driver.RunGenerators(compilation);

        CSharpCompilation edited = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText(
            "namespace Sample; public class Unrelated : System.Exception { }", ParseOptions, path: "Unrelated.cs"));
        GeneratorRunResult result = driver.RunGenerators(edited).GetRunResult().Results.Single();

        var outputs = result.TrackedOutputSteps.SelectMany(step => step.Value).SelectMany(step => step.Outputs).ToList();
        Assert.NotEmpty(outputs);
        Assert.All(outputs, output => Assert.Equal(IncrementalStepRunReason.Cached, output.Reason));

        // A change to a grain interface does regenerate.
        SyntaxTree grains = edited.SyntaxTrees.First();
        CSharpCompilation changed = edited.ReplaceSyntaxTree(grains, grains.WithChangedText(
            Microsoft.CodeAnalysis.Text.SourceText.From(grains.ToString().Replace("Task<int> Area(int scale);", "Task<int> Area(long scale);", StringComparison.Ordinal))));
        GeneratorRunResult rerun = driver.RunGenerators(changed).GetRunResult().Results.Single();
        Assert.Contains(
            rerun.TrackedOutputSteps.SelectMany(step => step.Value).SelectMany(step => step.Outputs),
            output => output.Reason is IncrementalStepRunReason.Modified or IncrementalStepRunReason.New);
    }

    [Fact]
    public void Nothing_is_generated_without_grains_or_without_the_abstractions()
    {
        Assert.Empty(Run("public interface INotAGrain { Task Go(); }").Result.GeneratedSources);
        Assert.Empty(Run("public interface INotAGrain : IDisposable { Task Go(); }", withAbstractions: false).Result.GeneratedSources);
    }

    [Fact]
    public void PGRID001_invalid_return_type() => AssertDiagnostic(
        "PGRID001",
        "public interface IBad : IGrainWithStringKey { int Get(); }",
        "'Sample.IBad.Get' returns 'int'");

    [Fact]
    public void PGRID001_void_return_type() => AssertDiagnostic(
        "PGRID001",
        "public interface IBad : IGrainWithStringKey { void Get(); }",
        "'Sample.IBad.Get' returns 'void'");

    [Fact]
    public void PGRID002_one_way_with_result() => AssertDiagnostic(
        "PGRID002",
        "public interface IBad : IGrainWithStringKey { [OneWay] Task<int> Get(); }",
        "'Sample.IBad.Get' is [OneWay]");

    [Theory]
    [InlineData("ref int value", "ref parameters")]
    [InlineData("out int value", "out parameters")]
    [InlineData("in int value", "in parameters")]
    [InlineData("params int[] value", "params parameters")]
    [InlineData("Span<int> value", "its type 'System.Span<int>' cannot be stored")]
    public void PGRID003_unsupported_parameter(string parameter, string reason) => AssertDiagnostic(
        "PGRID003",
        $"public interface IBad : IGrainWithStringKey {{ Task Get({parameter}); }}",
        $"Parameter 'value' of grain interface method 'Sample.IBad.Get' is not supported: {reason}");

    [Fact]
    public void PGRID004_cancellation_token() => AssertDiagnostic(
        "PGRID004",
        "public interface IBad : IGrainWithStringKey { Task Get(int a, CancellationToken cancellationToken); }",
        "'cancellationToken' of grain interface method 'Sample.IBad.Get'");

    [Fact]
    public void PGRID005_generic_method() => AssertDiagnostic(
        "PGRID005",
        "public interface IBad : IGrainWithStringKey { Task<T> Get<T>(); }",
        "'Sample.IBad.Get' is generic");

    [Fact]
    public void PGRID006_generic_interface() => AssertDiagnostic(
        "PGRID006",
        "public interface IBad<T> : IGrainWithStringKey { Task Get(); }",
        "'Sample.IBad<T>' is generic");

    [Fact]
    public void PGRID007_property() => AssertDiagnostic(
        "PGRID007",
        "public interface IBad : IGrainWithStringKey { int Count { get; } }",
        "declares property 'Count'");

    [Fact]
    public void PGRID007_event() => AssertDiagnostic(
        "PGRID007",
        "public interface IBad : IGrainWithStringKey { event EventHandler Changed; }",
        "declares event 'Changed'");

    [Fact]
    public void PGRID008_persistent_state_of_the_wrong_type() => AssertDiagnostic(
        "PGRID008",
        """
        public interface IGood : IGrainWithStringKey { Task Get(); }
        public sealed class BadGrain : Grain, IGood
        {
            public BadGrain([PersistentState("s")] string state) { }
            public Task Get() => Task.CompletedTask;
        }
        """,
        "Parameter 'state' of the constructor of grain class 'Sample.BadGrain'");

    [Fact]
    public void PGRID009_persistent_state_without_parameterless_constructor() => AssertDiagnostic(
        "PGRID009",
        """
        public sealed class NoDefault { public NoDefault(int x) { } }
        public interface IGood : IGrainWithStringKey { Task Get(); }
        public sealed class BadGrain : Grain, IGood
        {
            public BadGrain([PersistentState("s")] IPersistentState<NoDefault> state) { }
            public Task Get() => Task.CompletedTask;
        }
        """,
        "persistent state of 'Sample.NoDefault'");

    [Fact]
    public void PGRID010_no_public_constructor() => AssertDiagnostic(
        "PGRID010",
        """
        public interface IGood : IGrainWithStringKey { Task Get(); }
        public sealed class BadGrain : Grain, IGood
        {
            internal BadGrain() { }
            public Task Get() => Task.CompletedTask;
        }
        """,
        "'Sample.BadGrain' has no public constructor");

    [Fact]
    public void PGRID011_inaccessible_interface() => AssertDiagnostic(
        "PGRID011",
        """
        public class Outer
        {
            private interface IHidden : IGrainWithStringKey { Task Get(); }
        }
        """,
        "'Sample.Outer.IHidden' must be public or internal");

    [Fact]
    public void PGRID012_generic_grain_class() => AssertDiagnostic(
        "PGRID012",
        """
        public interface IGood : IGrainWithStringKey { Task Get(); }
        public sealed class BadGrain<T> : Grain, IGood
        {
            public Task Get() => Task.CompletedTask;
        }
        """,
        "'Sample.BadGrain<T>' is generic");

    [Fact]
    public void Errors_in_a_base_interface_are_reported_once()
    {
        (ImmutableArray<Diagnostic> diagnostics, _, _) = Run("""
            public interface IBase : IGrainWithStringKey { int Get(); }
            public interface IDerived : IBase { Task Other(); }
            """);

        Assert.Single(diagnostics, d => d.Id == "PGRID001");
    }
}
