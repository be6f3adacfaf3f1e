using System.CommandLine;
using System.Globalization;
using Npgsql;
using PresenceGrid.Postgres.Schema;

namespace PresenceGrid.Cli;

/// <summary>
/// <c>pgrid db migrate</c> and <c>pgrid db status</c>: the PostgreSQL schema Orleans clustering runs on, applied ahead of
/// time by a role that may create tables (silos then start with <c>ApplySchema</c> off), or only shown.
/// </summary>
/// <remarks>
/// Exit codes: 0 done; 1 the database could not be reached or refused (one line naming the server and the problem);
/// 2 --postgres is not a connection string. Errors never echo the connection string: it may hold a password.
/// </remarks>
internal static class DbCommand
{
    /// <summary>The <c>db</c> command and its subcommands.</summary>
    /// <returns>The command.</returns>
    public static Command Build()
    {
        var command = new Command("db", "The PostgreSQL schema for Orleans clustering: apply it ahead of time, or show what a database holds.");
        command.Subcommands.Add(Subcommand(
            "migrate",
            "Apply the schema (idempotent; safe while silos run) and print what happened to each part.",
            async (connectionString, output, ct) =>
            {
                foreach (SchemaPartOutcome outcome in await PostgresSchema.ApplyAsync(connectionString, ct))
                {
                    await output.WriteLineAsync(Describe(outcome));
                }
            }));
        command.Subcommands.Add(Subcommand(
            "status",
            "Print the schema parts a database records and their versions, next to this build's (changes nothing).",
            async (connectionString, output, ct) =>
            {
                IReadOnlyList<RecordedSchemaPart> recorded = await PostgresSchema.ReadRecordedAsync(connectionString, ct);
                foreach (string line in Describe(recorded))
                {
                    await output.WriteLineAsync(line);
                }
            }));
        return command;
    }

    /// <summary>One line for a part <c>migrate</c> handled.</summary>
    /// <param name="outcome">What happened to it.</param>
    /// <returns>The line.</returns>
    public static string Describe(SchemaPartOutcome outcome) => outcome.RecordedVersion switch
    {
        null => $"{outcome.Part}: applied version {outcome.ShippedVersion} (none recorded before).",
        { } recorded when recorded < outcome.ShippedVersion => $"{outcome.Part}: applied version {outcome.ShippedVersion} (was {recorded}).",
        { } recorded when recorded == outcome.ShippedVersion => $"{outcome.Part}: already current at version {recorded}.",
        { } recorded => $"{outcome.Part}: left alone at version {recorded}, newer than this build's {outcome.ShippedVersion}.",
    };

    /// <summary>The lines of <c>status</c>: each part this build ships, then each recorded part it does not know.</summary>
    /// <param name="recorded">What the database records.</param>
    /// <returns>The lines.</returns>
    public static IEnumerable<string> Describe(IReadOnlyList<RecordedSchemaPart> recorded)
    {
        foreach (SchemaPart part in PostgresSchema.Parts)
        {
            RecordedSchemaPart? row = recorded.FirstOrDefault(r => r.Part == part.Name);
            string state = row switch
            {
                null => "not applied",
                _ when row.Version < part.Version => "older: run pgrid db migrate",
                _ when row.Version == part.Version => "current",
                _ => "newer than this build",
            };
            yield return row is null
                ? $"{part.Name}: none recorded, this build ships {part.Version} ({state})."
                : $"{part.Name}: version {row.Version} applied {Stamp(row)}, this build ships {part.Version} ({state}).";
        }

        foreach (RecordedSchemaPart row in recorded.Where(r => PostgresSchema.Parts.All(p => p.Name != r.Part)))
        {
            yield return $"{row.Part}: version {row.Version} applied {Stamp(row)}, not a part this build knows.";
        }
    }

    private static string Stamp(RecordedSchemaPart row) => row.AppliedAt.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static Command Subcommand(string name, string description, Func<string, TextWriter, CancellationToken, Task> action)
    {
        var postgres = new Option<string>("--postgres")
        {
            Description = "The database, as an Npgsql connection string (Host=…;Database=…;Username=…); quote it.",
            Required = true,
        };
        var command = new Command(name, description) { postgres };
        command.SetAction(async (parse, ct) =>
        {
            string connectionString = parse.GetValue(postgres)!;
            NpgsqlConnectionStringBuilder target;
            try
            {
                target = new NpgsqlConnectionStringBuilder(connectionString);
            }
            catch (Exception exception) when (exception is ArgumentException or FormatException)
            {
                await Console.Error.WriteLineAsync($"pgrid db {name}: --postgres is not an Npgsql connection string ({exception.Message})".ReplaceLineEndings(" "));
                return 2;
            }

            try
            {
                await action(connectionString, Console.Out, ct);
                return 0;
            }
            catch (NpgsqlException exception)
            {
                string where = $"{target.Host ?? "localhost"}:{target.Port}{(target.Database is { } database ? $", database {database}" : string.Empty)}";
                await Console.Error.WriteLineAsync($"pgrid db {name}: PostgreSQL at {where}: {exception.Message}".ReplaceLineEndings(" "));
                return 1;
            }
        });
        return command;
    }
}
