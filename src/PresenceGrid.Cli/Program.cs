using PresenceGrid.Cli;

// pgrid: see `pgrid --help`.
return await PgridCommands.InvokeAsync(args);
