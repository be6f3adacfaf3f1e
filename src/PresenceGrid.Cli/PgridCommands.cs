using System.CommandLine;
using System.CommandLine.Invocation;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PresenceGrid.Client;
using PresenceGrid.Routing;
using PresenceGrid.Silo;
using PresenceGrid.Silo.Configuration;

namespace PresenceGrid.Cli;

/// <summary>
/// The pgrid command tree. <c>--url</c> and <c>--token</c> belong to the commands that talk to silos (and, as earlier
/// versions took them, may also come before the command: <c>pgrid --url URL load</c>); <c>silo</c>,
/// <c>check-module</c> and <c>db</c> do not take them. Every failure ends in one line on stderr and a non-zero exit, never a stack trace.
/// </summary>
internal static class PgridCommands
{
    private static readonly Option<string[]> Urls = UrlOption(hidden: false);

    private static readonly Option<string?> Token = TokenOption(hidden: false);

    // The same options before the command, not shown in the help.
    private static readonly Option<string[]> UrlsBeforeCommand = UrlOption(hidden: true);

    private static readonly Option<string?> TokenBeforeCommand = TokenOption(hidden: true);

    /// <summary>Parses and runs <paramref name="args"/> as the pgrid executable does.</summary>
    /// <param name="args">The command line.</param>
    /// <returns>The exit code: 0 on success; 1 for a failed request or a bad argument; 2 for a bad configuration (or <c>db</c>'s --postgres); 130 when cancelled.</returns>
    public static async Task<int> InvokeAsync(string[] args)
    {
        // Matrix ids start with '@': response files ("@file") are off.
        ParseResult parse = Build().Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parse.Action is ParseErrorAction errors)
        {
            // One line per error; `pgrid COMMAND --help` shows the usage.
            errors.ShowHelp = false;
        }

        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (OperationCanceledException)
        {
            return 130;
        }
        catch (Exception exception)
        {
            await Console.Error.WriteLineAsync(ErrorLine(exception));
            return exception is SiloConfigException ? 2 : 1;
        }
    }

    /// <summary>An exception as one line: the errcode and error of an API answer, the message of anything else.</summary>
    /// <param name="exception">The failure.</param>
    /// <returns>The line.</returns>
    public static string ErrorLine(Exception exception)
    {
        string line = exception switch
        {
            PresenceGridUnavailableException unreachable when unreachable.InnerExceptions.Count > 0 =>
                $"{unreachable.ErrCode}: {unreachable.Error} ({unreachable.InnerExceptions[0].Message})",
            PresenceGridApiException api => $"{api.ErrCode}: {api.Error}",
            _ => $"pgrid: {exception.Message}",
        };
        return line.ReplaceLineEndings(" ");
    }

    /// <summary>An integer option whose value must be at least <paramref name="minimum"/> (the parser refuses less with a one-line error).</summary>
    /// <param name="name">The option's name, such as <c>--users</c>.</param>
    /// <param name="defaultValue">Its value when not given.</param>
    /// <param name="minimum">The smallest value allowed.</param>
    /// <param name="description">What it means, for the help.</param>
    /// <returns>The option.</returns>
    public static Option<int> IntOption(string name, int defaultValue, int minimum, string description)
    {
        var option = new Option<int>(name) { DefaultValueFactory = _ => defaultValue, Description = description };
        option.Validators.Add(result =>
        {
            int value = result.GetValueOrDefault<int>();
            if (value < minimum)
            {
                result.AddError($"{name} must be {(minimum == 1 ? "a positive number" : $"{minimum} or more")}; got {value}.");
            }
        });
        return option;
    }

    public static RootCommand Build()
    {
        var root = new RootCommand("pgrid: PresenceGrid's command line.");
        root.Options.Add(UrlsBeforeCommand);
        root.Options.Add(TokenBeforeCommand);
        root.Subcommands.Add(SiloCommand());
        root.Subcommands.Add(SetCommand());
        root.Subcommands.Add(GetCommand());
        root.Subcommands.Add(SyncCommand());
        root.Subcommands.Add(WatchCommand());
        root.Subcommands.Add(MembershipCommand("join", Membership.Join));
        root.Subcommands.Add(MembershipCommand("leave", Membership.Leave));
        root.Subcommands.Add(ExplainCommand());
        root.Subcommands.Add(CheckModuleCommand());
        root.Subcommands.Add(LoadCommand.Build());
        root.Subcommands.Add(DbCommand.Build());
        return root;
    }

    /// <summary>An SDK client on <paramref name="endpoints"/> (default: every --url); owner routing as the SDK defaults unless <paramref name="routeToOwner"/> says.</summary>
    public static PresenceGridClient Client(
        ParseResult parse, IEnumerable<string>? endpoints = null, bool? routeToOwner = null, bool h2c = false, ILogger<PresenceGridClient>? logger = null)
    {
        var options = new PresenceGridClientOptions { Token = Given(parse, Token, TokenBeforeCommand), RouteToOwner = routeToOwner, Http2PriorKnowledge = h2c };
        foreach (string url in endpoints ?? TargetUrls(parse))
        {
            options.Endpoints.Add(new Uri(url));
        }

        return new PresenceGridClient(options, logger: logger);
    }

    /// <summary>Every --url given, after the command or before it; <see cref="SiloApp.DefaultUrl"/> when none is.</summary>
    /// <param name="parse">The command line.</param>
    /// <returns>The silos' API addresses.</returns>
    /// <exception cref="ArgumentException">One is not an absolute http(s) URL (the parser checks those after the command, not those before it).</exception>
    public static string[] TargetUrls(ParseResult parse)
    {
        string[] urls = Given(parse, Urls, UrlsBeforeCommand) is { Length: > 0 } given ? given : [SiloApp.DefaultUrl];
        return urls.Select(UrlError).FirstOrDefault(e => e is not null) is { } error ? throw new ArgumentException(error) : urls;
    }

    /// <summary>Why <paramref name="url"/> cannot be a --url, or <see langword="null"/> when it can.</summary>
    private static string? UrlError(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) && uri.Scheme is "http" or "https"
            ? null
            : $"--url: '{url}' is not an absolute http(s) URL such as {SiloApp.DefaultUrl}.";

    /// <summary>The value of <paramref name="option"/> when given after the command, else of <paramref name="beforeCommand"/> when given there.</summary>
    private static T? Given<T>(ParseResult parse, Option<T> option, Option<T> beforeCommand) =>
        parse.GetResult(option) is not { Implicit: false } && parse.GetResult(beforeCommand) is { Implicit: false }
            ? parse.GetValue(beforeCommand)
            : parse.GetValue(option);

    private static Option<string?> TokenOption(bool hidden) => new("--token") { Description = "Bearer token (one of the silo's frontend_tokens).", Hidden = hidden };

    /// <summary>A --url option, and the command-line rule that each is an absolute http(s) URL.</summary>
    private static Option<string[]> UrlOption(bool hidden)
    {
        // Only the parser validates the option after the command; TargetUrls checks the one before it.
        var option = new Option<string[]>("--url")
        {
            Description = $"A silo's API address (repeat for failover; default {SiloApp.DefaultUrl}).",
            AllowMultipleArgumentsPerToken = true,
            Hidden = hidden,
        };
        option.Validators.Add(result =>
        {
            foreach (string? error in (result.GetValueOrDefault<string[]>() ?? []).Select(UrlError).Where(e => e is not null))
            {
                result.AddError(error!);
            }
        });
        return option;
    }

    /// <summary>A command that talks to silos: it takes --url and --token, then <paramref name="symbols"/>.</summary>
    /// <param name="name">The command's name.</param>
    /// <param name="description">What it does, for the help.</param>
    /// <param name="symbols">Its arguments and options.</param>
    /// <returns>The command.</returns>
    public static Command ClientCommand(string name, string description, params Symbol[] symbols)
    {
        var command = new Command(name, description) { Urls, Token };
        foreach (Symbol symbol in symbols)
        {
            switch (symbol)
            {
                case Argument argument:
                    command.Arguments.Add(argument);
                    break;
                case Option option:
                    command.Options.Add(option);
                    break;
            }
        }

        return command;
    }

    /// <summary>An argument holding a Matrix user id, described as <paramref name="description"/>.</summary>
    private static Argument<string> UserArgument(string name, string description) => new(name) { Description = $"{description}, @name:server." };

    private static Command SiloCommand()
    {
        var command = new Command("silo", "Run a silo (the same as the silo executable; pass --config FILE, --urls URL).") { TreatUnmatchedTokensAsErrors = false };
        command.SetAction(async (parse, ct) =>
        {
            try
            {
                await using var app = SiloApp.Build([.. parse.UnmatchedTokens]);
                await app.StartAsync(ct);
                await app.WaitForShutdownAsync(ct);
                return 0;
            }
            catch (SiloConfigException exception)
            {
                await Console.Error.WriteLineAsync($"Bad configuration: {exception.Message}");
                return 2;
            }
        });
        return command;
    }

    private static Command SetCommand()
    {
        var user = UserArgument("user", "The user");
        var presence = new Argument<string>("presence") { Description = "online, unavailable, offline or org.matrix.msc3026.busy." };
        presence.Validators.Add(result =>
        {
            if (string.IsNullOrWhiteSpace(result.GetValueOrDefault<string>()))
            {
                result.AddError("presence: must not be empty; online, unavailable, offline or org.matrix.msc3026.busy.");
            }
        });
        var status = new Option<string?>("--status") { Description = "The status message." };
        var device = new Option<string?>("--device") { Description = "The device that sets it (default: none)." };
        var command = ClientCommand("set", "Set a user's presence.", user, presence, status, device);
        command.SetAction((parse, ct) => Run(parse, async client =>
        {
            await client.SetPresenceAsync(parse.GetValue(user)!, new PresenceState(parse.GetValue(presence)!), parse.GetValue(status), parse.GetValue(device), ct);
            Console.WriteLine("ok");
        }));
        return command;
    }

    private static Command GetCommand()
    {
        var user = UserArgument("user", "The user whose presence to show");
        var requester = new Option<string?>("--requester") { Description = "Who asks (default: the user); the answer is M_FORBIDDEN unless the requester may see the user." };
        var command = ClientCommand("get", "Show a user's presence.", user, requester);
        command.SetAction((parse, ct) => Run(parse, async client =>
        {
            string who = parse.GetValue(user)!;
            PresenceContent content = await client.GetPresenceAsync(who, parse.GetValue(requester) ?? who, ct);
            Console.WriteLine(Format(who, content));
        }));
        return command;
    }

    private static Command SyncCommand()
    {
        var user = UserArgument("user", "The syncing user");
        var since = new Option<string?>("--since") { Description = "The next_batch token of the previous sync (default: an initial sync)." };
        var timeout = IntOption("--timeout-ms", 0, 0, "How long to wait for a change when there is none, in milliseconds (0: answer at once).");
        var full = new Option<bool>("--full-state") { Description = "Every visible user's presence, not only what changed since --since." };
        var command = ClientCommand("sync", "One sync: the presence events for a user and the next token.", user, since, timeout, full);
        command.SetAction((parse, ct) => Run(parse, async client =>
        {
            SyncBatch batch = await client.SyncAsync(parse.GetValue(user)!, parse.GetValue(since), parse.GetValue(full), TimeSpan.FromMilliseconds(parse.GetValue(timeout)), null, ct);
            Print(batch);
        }));
        return command;
    }

    private static Command WatchCommand()
    {
        var user = UserArgument("user", "The watching user: the stream carries the presence changes this user sees");
        var since = new Option<string?>("--since") { Description = "Start after this next_batch token (default: from the current state)." };
        var giveUpAfter = IntOption("--give-up-after", 60, 1, "While no silo can be reached, retry with backoff for this many seconds, then give up with exit code 1.");
        var forever = new Option<bool>("--forever") { Description = "Retry with backoff for as long as no silo can be reached, instead of giving up." };
        var device = new Option<string?>("--device") { Description = "Count the watch as this device's open sync: the device stays online while it runs." };
        var command = ClientCommand("watch", "Stream a user's presence events live (Ctrl+C stops).", user, since, giveUpAfter, forever, device);
        command.SetAction(async (parse, ct) =>
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            TimeSpan? limit = parse.GetValue(forever) ? null : TimeSpan.FromSeconds(parse.GetValue(giveUpAfter));
            var reconnects = new WatchReconnects(TimeProvider.System, limit, Console.Error, stop.Cancel);
            using PresenceGridClient client = Client(parse, logger: reconnects);
            try
            {
                await foreach (SyncBatch batch in client.WatchAsync(parse.GetValue(user)!, parse.GetValue(since), parse.GetValue(device), stop.Token))
                {
                    reconnects.Received();
                    Print(batch);
                }

                return 0;
            }
            catch (OperationCanceledException) when (reconnects.GaveUp)
            {
                return 1;
            }
        });
        return command;
    }

    private static Command MembershipCommand(string name, Membership membership)
    {
        var room = new Argument<string>("room") { Description = "The room, !id:server." };
        var user = UserArgument("user", "The user");
        string what = membership == Membership.Join ? "Join a user to a room" : "Make a user leave a room";
        var command = ClientCommand(name, $"{what} (as the homeserver reports it).", room, user);
        command.SetAction((parse, ct) => Run(parse, async client =>
        {
            await client.SetMembershipAsync(parse.GetValue(room)!, parse.GetValue(user)!, membership, ct);
            Console.WriteLine("ok");
        }));
        return command;
    }

    private static Command ExplainCommand()
    {
        var from = UserArgument("from", "The sender, whose presence is delivered or not");
        var to = UserArgument("to", "The receiver");
        var command = ClientCommand("explain", "Why FROM's presence does or does not reach TO.", from, to);
        command.SetAction((parse, ct) => Run(parse, async client =>
        {
            PresenceExplanation explanation = await client.ExplainAsync(parse.GetValue(from)!, parse.GetValue(to)!, ct);
            Console.WriteLine(explanation.Delivered ? "delivered:" : "not delivered: no shared room, no module routes it, not an ALL user.");
            foreach (ExplainReason reason in explanation.Reasons)
            {
                Console.WriteLine($"  {reason.Kind}{(reason.RoomId is null ? string.Empty : $" {reason.RoomId}")}{(reason.Module is null ? string.Empty : $" {reason.Module}")}");
            }
        }));
        return command;
    }

    private static Command CheckModuleCommand()
    {
        var config = new Argument<string>("config") { Description = "The silo's YAML configuration." };
        var users = new Option<string[]>("--user")
        {
            Description = "More users to sample, @name:server (repeatable), besides the user ids in the modules' configuration.",
            AllowMultipleArgumentsPerToken = true,
        };
        users.Validators.Add(result =>
        {
            foreach (string user in result.GetValueOrDefault<string[]>() ?? [])
            {
                if (!Matrix.UserId.TryParse(user, out _))
                {
                    result.AddError($"--user: '{user}' is not a Matrix user id (@name:server).");
                }
            }
        });
        var command = new Command("check-module", "Load the configured routing modules and report where get_users_for_states and get_interested_users disagree.") { config, users };
        command.SetAction(async (parse, ct) =>
        {
            try
            {
                SiloConfigFile file = SiloConfigFile.Load(parse.GetValue(config)!);
                IConfiguration modules = file.Modules;
                var (sampled, mismatches) = await PresenceModuleCheck.RunAsync(modules, [file.ServerName], parse.GetValue(users) ?? [], ct);
                Console.WriteLine($"sampled {sampled.Count} users: {string.Join(", ", sampled)}");
                foreach (string mismatch in mismatches)
                {
                    Console.WriteLine(mismatch);
                }

                Console.WriteLine(mismatches.Count == 0 ? "the two callbacks line up for every sampled pair." : $"{mismatches.Count} mismatches.");
                return mismatches.Count == 0 ? 0 : 1;
            }
            catch (Exception exception) when (exception is SiloConfigException or Modules.ModuleLoadException)
            {
                await Console.Error.WriteLineAsync(exception.Message);
                return 2;
            }
        });
        return command;
    }

    /// <summary>Runs <paramref name="action"/> with a client; failures end in <see cref="InvokeAsync"/> (one line, exit 1).</summary>
    private static async Task<int> Run(ParseResult parse, Func<PresenceGridClient, Task> action)
    {
        using PresenceGridClient client = Client(parse);
        await action(client);
        return 0;
    }

    private static string Format(string user, PresenceContent content) =>
        $"{user} {content.Presence.Value}{(content.StatusMsg is null ? string.Empty : $" \"{content.StatusMsg}\"")}"
        + $"{(content.LastActiveAgo is { } ago ? $" active {ago / 1000}s ago" : string.Empty)}{(content.CurrentlyActive == true ? " (currently active)" : string.Empty)}";

    private static void Print(SyncBatch batch)
    {
        foreach (PresenceEvent ev in batch.Events)
        {
            Console.WriteLine(Format(ev.Sender, ev.Content));
        }

        Console.WriteLine($"next_batch: {batch.NextBatch}");
    }
}
