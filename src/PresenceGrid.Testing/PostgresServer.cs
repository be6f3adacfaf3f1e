using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PresenceGrid.Testing;

/// <summary>
/// A private, throwaway PostgreSQL server for tests: <c>initdb</c> into a temporary directory, then
/// <c>pg_ctl start</c> on a free loopback port with durability shortcuts that only an OS crash could
/// defeat (<c>fsync=off</c>, <c>full_page_writes=off</c>; <c>synchronous_commit</c> stays on, so
/// an immediate stop loses nothing acknowledged). Runs the binaries as the <c>postgres</c> user
/// when the test runs as root. Share one per test assembly; give each test its own schema.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private const string InstallHint =
        "Install PostgreSQL with 'apt-get install -y postgresql' (or run ./test.sh, which installs it), or set PG_BIN to the directory holding initdb and pg_ctl.";

    private readonly string _binDirectory;
    private readonly string _directory;
    private readonly bool _asPostgresUser;
    private int _clusterCounter;

    private PostgresServer(string binDirectory, string directory, int port, bool asPostgresUser)
    {
        _binDirectory = binDirectory;
        _directory = directory;
        _asPostgresUser = asPostgresUser;
        Port = port;
    }

    /// <summary>The loopback TCP port the server listens on.</summary>
    public int Port { get; }

    /// <summary>The data directory.</summary>
    public string DataDirectory => Path.Combine(_directory, "data");

    /// <summary>A connection string to the <c>postgres</c> database as the <c>postgres</c> superuser (no password).</summary>
    public string ConnectionString => ConnectionStringFor("postgres");

    /// <summary>The server log so far (for failure messages).</summary>
    public string LogText
    {
        get
        {
            string path = Path.Combine(_directory, "server.log");
            try
            {
                return File.Exists(path) ? File.ReadAllText(path) : "(no server log)";
            }
            catch (IOException ex)
            {
                return $"(server log unreadable: {ex.Message})";
            }
        }
    }

    /// <summary>Creates and starts a server.</summary>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running server.</returns>
    /// <exception cref="InvalidOperationException">When PostgreSQL is not installed or does not start; the message says how to fix it.</exception>
    public static async Task<PostgresServer> StartAsync(CancellationToken cancellationToken = default)
    {
        string bin = FindBinaries();
        bool asPostgresUser = string.Equals(Environment.UserName, "root", StringComparison.Ordinal);
        DirectoryInfo directory = Directory.CreateTempSubdirectory("pgrid-pg-");
        var server = new PostgresServer(bin, directory.FullName, FreePort(), asPostgresUser);
        try
        {
            if (asPostgresUser)
            {
                await server.RunAsync("chown", ["postgres:", directory.FullName], asPostgres: false, cancellationToken).ConfigureAwait(false);
            }

            await server.RunAsync(
                Path.Combine(bin, "initdb"),
                ["-D", server.DataDirectory, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"],
                asPostgres: asPostgresUser,
                cancellationToken).ConfigureAwait(false);
            await server.StartServerAsync(cancellationToken).ConfigureAwait(false);
            return server;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            string log = server.LogTail();
            await server.DisposeAsync().ConfigureAwait(false);
            throw new InvalidOperationException($"The test PostgreSQL server did not start: {ex.Message}\n{InstallHint}\nServer log tail:\n{log}", ex);
        }
    }

    /// <summary>A connection string to <paramref name="database"/>.</summary>
    /// <param name="database">The database.</param>
    /// <returns>The connection string.</returns>
    public string ConnectionStringFor(string database) =>
        string.Create(CultureInfo.InvariantCulture, $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database}");

    /// <summary>A cluster id no other caller of this server gets: <paramref name="prefix"/>, a counter and random letters.</summary>
    /// <param name="prefix">A readable prefix (lowercase letters, digits, '_', '-').</param>
    /// <returns>The id, at most 40 characters.</returns>
    public string NewClusterId(string prefix = "t")
    {
        string id = string.Create(CultureInfo.InvariantCulture, $"{prefix}_{Interlocked.Increment(ref _clusterCounter)}_{Guid.NewGuid():N}");
        return id.Length <= 40 ? id : id[..40];
    }

    /// <summary>Creates a database and returns its connection string.</summary>
    /// <param name="name">The database name (letters, digits, '_').</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The new database's connection string.</returns>
    public async Task<string> CreateDatabaseAsync(string name, CancellationToken cancellationToken = default)
    {
        if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
        {
            throw new ArgumentException($"'{name}' is not a plain database name.", nameof(name));
        }

        await RunAsync(
            Path.Combine(_binDirectory, "psql"),
            ["-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", $"CREATE DATABASE \"{name}\""],
            asPostgres: _asPostgresUser,
            cancellationToken).ConfigureAwait(false);
        return ConnectionStringFor(name);
    }

    /// <summary>Crashes the server (<c>pg_ctl -m immediate stop</c>) and starts it again on the same port, waiting out recovery.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task.</returns>
    public Task RestartAsync(CancellationToken cancellationToken = default) => RestartAsync(TimeSpan.Zero, cancellationToken);

    /// <summary>Crashes the server, keeps it down for <paramref name="downtime"/>, then starts it again on the same port.</summary>
    /// <param name="downtime">How long the database stays unreachable.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task.</returns>
    public async Task RestartAsync(TimeSpan downtime, CancellationToken cancellationToken = default)
    {
        await StopServerAsync("immediate", cancellationToken).ConfigureAwait(false);
        if (downtime > TimeSpan.Zero)
        {
            await Task.Delay(downtime, cancellationToken).ConfigureAwait(false);
        }

        await StartServerAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops the server (fast shutdown).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task.</returns>
    public Task StopAsync(CancellationToken cancellationToken = default) => StopServerAsync("fast", cancellationToken);

    /// <summary>Stops the server and deletes its directory.</summary>
    /// <returns>A task.</returns>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
            {
                await StopServerAsync("immediate", CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (InvalidOperationException)
        {
            // Best effort: the directory goes anyway.
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static string FindBinaries()
    {
        string? configured = Environment.GetEnvironmentVariable("PG_BIN");
        if (!string.IsNullOrEmpty(configured))
        {
            return File.Exists(Path.Combine(configured, "initdb"))
                ? configured
                : throw new InvalidOperationException($"PG_BIN is '{configured}' but it holds no initdb. {InstallHint}");
        }

        const string root = "/usr/lib/postgresql";
        string? found = Directory.Exists(root)
            ? Directory.GetDirectories(root)
                .Select(d => Path.Combine(d, "bin"))
                .Where(b => File.Exists(Path.Combine(b, "initdb")) && File.Exists(Path.Combine(b, "pg_ctl")))
                .OrderByDescending(b => int.TryParse(Path.GetFileName(Path.GetDirectoryName(b)), NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v : 0)
                .FirstOrDefault()
            : null;
        return found ?? throw new InvalidOperationException($"No PostgreSQL server binaries under {root}/*/bin. {InstallHint}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private Task StartServerAsync(CancellationToken cancellationToken) =>
        RunAsync(
            Path.Combine(_binDirectory, "pg_ctl"),
            [
                "-D", DataDirectory, "-l", Path.Combine(_directory, "server.log"), "-w", "-t", "60",
                "-o", string.Create(CultureInfo.InvariantCulture, $"-p {Port} -c listen_addresses=127.0.0.1 -k {_directory} -c fsync=off -c full_page_writes=off -c synchronous_commit=on"),
                "start",
            ],
            asPostgres: _asPostgresUser,
            cancellationToken);

    private Task StopServerAsync(string mode, CancellationToken cancellationToken) =>
        RunAsync(Path.Combine(_binDirectory, "pg_ctl"), ["-D", DataDirectory, "-m", mode, "-w", "stop"], asPostgres: _asPostgresUser, cancellationToken);

    private string LogTail()
    {
        string[] lines = LogText.Split('\n');
        return string.Join('\n', lines.TakeLast(30));
    }

    private async Task RunAsync(string program, IReadOnlyList<string> arguments, bool asPostgres, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _directory,
        };
        if (asPostgres)
        {
            start.FileName = "runuser";
            foreach (string argument in (string[])["-u", "postgres", "--", program])
            {
                start.ArgumentList.Add(argument);
            }
        }
        else
        {
            start.FileName = program;
        }

        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = new Process { StartInfo = start };
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => AppendLine(output, e.Data);
        process.ErrorDataReceived += (_, e) => AppendLine(output, e.Data);
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException($"Could not run {program}: {ex.Message}. {InstallHint}", ex);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            string text;
            lock (output)
            {
                text = output.ToString();
            }

            throw new InvalidOperationException(string.Create(
                CultureInfo.InvariantCulture,
                $"{Path.GetFileName(program)} {string.Join(' ', arguments.Where(a => !a.StartsWith('-')).TakeLast(1))} exited with {process.ExitCode}: {text.Trim()}\nServer log tail:\n{LogTail()}"));
        }
    }

    private static void AppendLine(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }
}
