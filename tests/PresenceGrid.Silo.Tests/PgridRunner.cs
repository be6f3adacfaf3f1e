using System.Text;
using PresenceGrid.Cli;

namespace PresenceGrid.Silo.Tests;

/// <summary>
/// Runs pgrid in process, as its executable does (<see cref="PgridCommands.InvokeAsync"/>), and captures its console
/// output: <c>Output</c> holds stdout and stderr as written, <c>Error</c> stderr alone (callers must not run in
/// parallel with other console users).
/// </summary>
internal static class PgridRunner
{
    public static async Task<(int Exit, string Output, string Error)> RunAsync(params string[] args)
    {
        TextWriter original = Console.Out;
        TextWriter originalError = Console.Error;
        using var output = new StringWriter();
        using var error = new StringWriter();
        Console.SetOut(output);
        Console.SetError(new Tee(output, error));
        try
        {
            int exit = await PgridCommands.InvokeAsync(args);
            return (exit, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(original);
            Console.SetError(originalError);
        }
    }

    /// <summary>Writes to both writers.</summary>
    private sealed class Tee(TextWriter first, TextWriter second) : TextWriter
    {
        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value)
        {
            first.Write(value);
            second.Write(value);
        }

        public override void Write(string? value)
        {
            first.Write(value);
            second.Write(value);
        }
    }
}
