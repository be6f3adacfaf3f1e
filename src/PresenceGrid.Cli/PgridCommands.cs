using Microsoft.Extensions.Hosting;
using System.CommandLine;
using Microsoft.Extensions.Configuration;
using PresenceGrid.Client;
using PresenceGrid.Routing;
using PresenceGrid.Silo;
using PresenceGrid.Silo.Configuration;

namespace PresenceGrid.Cli;

/// <summary>The pgrid command tree.</summary>
internal static class PgridCommands
{
    private static readonly Option<string[]> Urls = new("--url")
    {
        Description = "A silo's API address (repeat for failover).",
        DefaultValueFactory = _ => [SiloApp.DefaultUrl],
        Recursive = true,
        AllowMultipleArgumentsPerToken = true,
    };

    private static readonly Option<string?> Token = new("--token") { Description = "Bearer token (frontend_tokens).", Recursive = true };

    public static RootCommand Build()
    {
        var root = new RootCommand("pgrid: PresenceGrid's command line.");
        root.Options.Add(Urls);
        root.Options.Add(Token);
        root.Subcommands.Add(SiloCommand());
        root.Subcommands.Add(SetCommand());
        root.Subcommands.Add(GetCommand());
        root.Subcommands.Add(SyncCommand());
        root.Subcommands.Add(WatchCommand());
        root.Subcommands.Add(MembershipCommand("join", Membership.Join));
        root.Subcommands.Add(MembershipCommand("leave", Membership.Leave));
        root.Subcommands.Add(ExplainCommand());
        root.Subcommands.Add(CheckModuleCommand());
        root.Subcommands.Add(LoadCommand.Build(Urls, Token));
        return root;
    }

    /// <summary>An SDK client on <paramref name="endpoints"/> (default: every --url); owner routing as the SDK defaults unless <paramref name="routeToOwner"/> says.</summary>
    public static PresenceGridClient Client(ParseResult parse, IEnumerable<string>? endpoints = null, bool? routeToOwner = null, bool h2c = false)
    {
        var options = new PresenceGridClientOptions { Token = parse.GetValue(Token), RouteToOwner = routeToOwner, Http2PriorKnowledge = h2c };
        foreach (string url in endpoints ?? parse.GetValue(Urls) ?? [SiloApp.DefaultUrl])
        {
            options.Endpoints.Add(new Uri(url));
        }

        return new PresenceGridClient(options);
    }

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
        var user = new Argument<string>("user") { Description = "The user, @name:server." };
        var presence = new Argument<string>("presence") { Description = "online, unavailable, offline or org.matrix.msc3026.busy." };
        var status = new Option<string?>("--status") { Description = "The status message." };
        var device = new Option<string?>("--device") { Description = "The device." };
        var command = new Command("set", "Set a user's presence.") { user, presence, status, device };
        command.SetAction((parse, ct) => Run(parse, async client =>
        {
            await client.SetPresenceAsync(parse.GetValue(user)!, new PresenceState(parse.GetValue(presence)!), parse.GetValue(status), parse.GetValue(device), ct);
            Console.WriteLine("ok");
        }));
        return command;
    }

    private static Command GetCommand()
    {
        var user = new Argument<string>("user");
        var requester = new Option<string?>("--requester") { Description = "Who asks (default: the user)." };
        var command = new Command("get", "Show a user's presence.") { user, requester };
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
        var user = new Argument<string>("user");
        var since = new Option<string?>("--since");
        var timeout = new Option<int>("--timeout-ms") { DefaultValueFactory = _ => 0 };
        var full = new Option<bool>("--full-state");
        var command = new Command("sync", "One sync: the presence events for a user and the next token.") { user, since, timeout, full };
        command.SetAction((parse, ct) => Run(parse, async client =>
        {
            SyncBatch batch = await client.SyncAsync(parse.GetValue(user)!, parse.GetValue(since), parse.GetValue(full), TimeSpan.FromMilliseconds(parse.GetValue(timeout)), null, ct);
            Print(batch);
        }));
        return command;
    }

    private static Command WatchCommand()
    {
        var user = new Argument<string>("user");
        var since = new Option<string?>("--since");
        var device = new Option<string?>("--device") { Description = "Count the watch as this device's open sync: the device stays online while it runs." };
        var command = new Command("watch", "Stream a user's presence events live (Ctrl+C stops).") { user, since, device };
        command.SetAction((parse, ct) => Run(parse, async client =>
        {
            await foreach (SyncBatch batch in client.WatchAsync(parse.GetValue(user)!, parse.GetValue(since), parse.GetValue(device), ct))
            {
                Print(batch);
            }
        }));
        return command;
    }

    private static Command MembershipCommand(string name, Membership membership)
    {
        var room = new Argument<string>("room");
        var user = new Argument<string>("user");
        var command = new Command(name, $"{name} a user to/from a room (as the homeserver reports it).") { room, user };
        command.SetAction((parse, ct) => Run(parse, async client =>
        {
            await client.SetMembershipAsync(parse.GetValue(room)!, parse.GetValue(user)!, membership, ct);
            Console.WriteLine("ok");
        }));
        return command;
    }

    private static Command ExplainCommand()
    {
        var from = new Argument<string>("from");
        var to = new Argument<string>("to");
        var command = new Command("explain", "Why FROM's presence does or does not reach TO.") { from, to };
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
        var users = new Option<string[]>("--user") { Description = "More users to sample.", AllowMultipleArgumentsPerToken = true };
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

    private static async Task<int> Run(ParseResult parse, Func<PresenceGridClient, Task> action)
    {
        using PresenceGridClient client = Client(parse);
        try
        {
            await action(client);
            return 0;
        }
        catch (PresenceGridApiException exception)
        {
            await Console.Error.WriteLineAsync($"{exception.ErrCode}: {exception.Error}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            return 130;
        }
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
