using System.CommandLine;
using PresenceGrid.Cli;

// pgrid: see `pgrid --help`. Matrix ids start with '@': response files ("@file") are off.
return await PgridCommands.Build().Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null }).InvokeAsync();
