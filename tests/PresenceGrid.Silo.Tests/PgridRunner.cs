using System.CommandLine;
using PresenceGrid.Cli;

namespace PresenceGrid.Silo.Tests;

/// <summary>Runs pgrid in process and captures its console output (callers must not run in parallel with other console users).</summary>
internal static class PgridRunner
{
    public static async Task<(int Exit, string Output)> RunAsync(params string[] args)
    {
        TextWriter original = Console.Out;
        TextWriter originalError = Console.Error;
        using var output = new StringWriter();
        Console.SetOut(output);
        Console.SetError(output);
        try
        {
            int exit = await PgridCommands.Build().Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null }).InvokeAsync();
            return (exit, output.ToString());
        }
        finally
        {
            Console.SetOut(original);
            Console.SetError(originalError);
        }
    }
}
