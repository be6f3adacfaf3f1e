using System.Net;
using Microsoft.Extensions.Options;
using PresenceGrid.Silo.Api;
using Orleans.Dashboard;
using PresenceGrid.Silo.Configuration;

namespace PresenceGrid.Silo;

/// <summary>
/// Builds the silo: configuration (<c>--config FILE</c>, default the bundled <c>presencegrid.yaml</c>),
/// the grid, the HTTP/JSON API on Kestrel (HTTP/1.1 and HTTP/2), bearer-token auth, /healthz and /metrics.
/// </summary>
public static partial class SiloApp
{
    /// <summary>The bundled sample configuration: the embedded default.</summary>
    public const string DefaultConfigFile = "presencegrid.yaml";

    /// <summary>The embedded default's address.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8787";

    /// <summary>The exit code of a silo refused for its configuration (file or command line).</summary>
    public const int BadConfigurationExitCode = 2;

    /// <summary>
    /// Builds the application as the executable does: a bad configuration is one line on <paramref name="error"/>
    /// (<c>Bad configuration: FILE: KEY: what is wrong</c>, no stack trace) and null, for <see cref="BadConfigurationExitCode"/>.
    /// </summary>
    /// <param name="args">As for <see cref="Build"/>.</param>
    /// <param name="error">Where the error goes (standard error).</param>
    /// <returns>The application, not started; null if the configuration is bad.</returns>
    public static WebApplication? BuildOrReport(string[] args, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(error);
        try
        {
            return Build(args);
        }
        catch (SiloConfigException exception)
        {
            error.WriteLine($"Bad configuration: {exception.Message}");
            return null;
        }
    }

    /// <summary>Builds the application from command-line arguments.</summary>
    /// <param name="args"><c>--config FILE</c>, <c>--urls URLS</c>, <c>--h2c-urls URLS</c>; nothing else.</param>
    /// <returns>The application, not started.</returns>
    /// <exception cref="SiloConfigException">The configuration is bad.</exception>
    public static WebApplication Build(string[] args)
    {
        IConfiguration options = ReadOptions(args);

        // The silo binds --urls itself (explicit listeners below), so the host is not given them: it would also see them
        // and warn that it is "overriding" them, although it binds exactly there.
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        string configPath = options["config"] ?? Path.Combine(AppContext.BaseDirectory, DefaultConfigFile);
        SiloConfigFile config = SiloConfigFile.Load(configPath);

        string urls = options["urls"] is { Length: > 0 } configuredUrls ? configuredUrls : DefaultUrl;
        string? h2cUrls = options["h2c-urls"];
        RefuseUnusableUrls("--urls", urls);
        RefuseUnusableUrls("--h2c-urls", h2cUrls);
        if (config.FrontendTokens.Count == 0)
        {
            foreach (string url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries))
            {
                if (!IsLoopback(url))
                {
                    throw new SiloConfigException(configPath, "frontend_tokens", $"no tokens are configured, so the silo listens on loopback only, but --urls asks for {url}. Add frontend_tokens or listen on 127.0.0.1.");
                }
            }
        }

        // HTTP/1.1 on --urls; HTTP/2 with prior knowledge (cleartext h2c) on --h2c-urls, since cleartext
        // endpoints cannot negotiate HTTP/2. Explicit listeners, so both kinds can coexist.
        foreach (string url in (h2cUrls ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            if (config.FrontendTokens.Count == 0 && !IsLoopback(url))
            {
                throw new SiloConfigException(configPath, "frontend_tokens", $"no tokens are configured, so the silo listens on loopback only, but --h2c-urls asks for {url}.");
            }
        }

        // The Orleans Dashboard: unless dashboard.enabled says otherwise, only on a silo that listens on loopback alone. With
        // frontend_tokens it asks for the same bearer token as /v1 (docs/configuration.md).
        bool dashboard = config.DashboardEnabled ?? $"{urls};{h2cUrls}".Split(';', StringSplitOptions.RemoveEmptyEntries).All(IsLoopback);

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = Json.MaxBodyBytes;
            RequestLimits.Configure(kestrel.Limits);
            foreach (string url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries))
            {
                Listen(kestrel, url, Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1);
            }

            foreach (string url in (h2cUrls ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries))
            {
                Listen(kestrel, url, Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2);
            }
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        // Orleans logs its configuration and every placement retry at Information: warnings and errors are what an
        // operator needs from it by default.
        builder.Logging.AddFilter("Orleans", LogLevel.Warning);
        builder.Logging.AddFilter("Polly", LogLevel.Warning);
        // ASP.NET Core starts an Activity (and its execution-context copies) for every request while
        // this category can log at all; it only logs request start and finish, so it is switched off.
        // Unhandled request exceptions are still logged by Kestrel's own category.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });

        string httpEndpoint = urls.Split(';', StringSplitOptions.RemoveEmptyEntries)[0];
        builder.UseOrleans(silo =>
        {
            SiloCluster.Configure(silo, config, httpEndpoint);
            if (dashboard)
            {
                silo.AddDashboard();
            }
        });
        if (config.ModuleKeys.Count > 0)
        {
            try
            {
                builder.Services.AddPresenceModules(config.Modules);
            }
            catch (Exception exception) when (AsConfigError(configPath, exception) is { } error)
            {
                throw error;
            }
        }

        SiloMetrics.Add(builder.Services, config);
        builder.Services.AddSingleton(config);

        WebApplication app = builder.Build();
        try
        {
            // What the host would otherwise find only when it starts: bad option values and modules that cannot load.
            app.Services.GetService<IStartupValidator>()?.Validate();
            app.Services.LoadPresenceModules();
        }
        catch (Exception exception) when (AsConfigError(configPath, exception) is { } error)
        {
            throw error;
        }

        RequestLimits.Use(app);
        app.Use(async (context, next) =>
        {
            if (config.FrontendTokens.Count > 0
                && (context.Request.Path.StartsWithSegments("/v1") || (dashboard && context.Request.Path.StartsWithSegments(config.DashboardPath))))
            {
                if (!BearerToken.TryRead(context.Request.Headers.Authorization.ToString(), out string token))
                {
                    await new ApiException(401, "M_MISSING_TOKEN", "Authorization: a bearer token is required.").WriteAsync(context.Response);
                    return;
                }

                if (!config.FrontendTokens.Any(t => System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                    System.Text.Encoding.UTF8.GetBytes(t), System.Text.Encoding.UTF8.GetBytes(token))))
                {
                    await new ApiException(401, "M_UNKNOWN_TOKEN", "Authorization: the bearer token is not known.").WriteAsync(context.Response);
                    return;
                }
            }

            await next(context);
        });
        PresenceApi.Map(app);
        RouterApi.Map(app);
        SiloMetrics.Map(app);
        if (dashboard)
        {
            app.MapOrleansDashboard(config.DashboardPath);
        }

        app.MapFallback(new UnmatchedRequests(app).WriteAsync);

        app.Lifetime.ApplicationStopped.Register(() =>
            LogStopped(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("PresenceGrid.Silo"), config.SiloName));
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            ILogger logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("PresenceGrid.Silo");
            var presence = app.Services.GetRequiredService<IOptions<Hosting.PresenceOptions>>().Value;
            string listening = string.Join(", ", app.Urls);
            LogUp(logger, listening, configPath, string.Join(", ", presence.ServerNames), config.ModuleKeys.Count > 0 ? string.Join(", ", config.ModuleKeys.Where(k => k.Key.EndsWith(":module", StringComparison.OrdinalIgnoreCase)).Select(k => k.Value)) : "none");
            if (config.FrontendTokens.Count == 0)
            {
                LogLoopbackOnly(logger);
            }

            foreach (string warning in config.Warnings)
            {
                LogConfigWarning(logger, warning);
            }

            LogHowTo(logger, HowTo(app.Urls.FirstOrDefault() ?? DefaultUrl, config));
            if (dashboard)
            {
                LogDashboard(logger, $"{app.Urls.FirstOrDefault() ?? DefaultUrl}{config.DashboardPath}/", config.FrontendTokens.Count > 0 ? " (with a bearer token from frontend_tokens)" : string.Empty);
            }
        });
        return app;
    }

    /// <summary>The keys the command line takes; everything else belongs in the config file.</summary>
    private static readonly string[] CommandLineKeys = ["config", "urls", "h2c-urls"];

    /// <summary>
    /// The command line: <c>--config</c>, <c>--urls</c>, <c>--h2c-urls</c>. Any other option (<c>--server_name x</c>) would
    /// be ignored silently: it is refused, as the file refuses unknown keys.
    /// </summary>
    private static IConfiguration ReadOptions(string[] args)
    {
        // .NET's command-line syntax (--key value, --key=value, /key value, key=value) skips what it cannot read: refuse it instead.
        for (int i = 0; i < args.Length; i++)
        {
            bool isOption = args[i].StartsWith("--", StringComparison.Ordinal) || args[i].StartsWith('/');
            if (!args[i].Contains('=', StringComparison.Ordinal) && !isOption)
            {
                throw new SiloConfigException("command line", args[i], "unexpected argument; the command line takes only --config FILE, --urls URLS and --h2c-urls URLS.");
            }

            if (isOption && !args[i].Contains('=', StringComparison.Ordinal) && ++i == args.Length)
            {
                throw new SiloConfigException("command line", args[^1], "needs a value.");
            }
        }

        IConfigurationRoot commandLine;
        try
        {
            commandLine = new ConfigurationBuilder().AddCommandLine(args).Build();
        }
        catch (FormatException exception)
        {
            throw new SiloConfigException("command line", "(arguments)", exception.Message);
        }

        foreach (IConfigurationSection option in commandLine.GetChildren())
        {
            if (!CommandLineKeys.Contains(option.Key, StringComparer.OrdinalIgnoreCase))
            {
                throw new SiloConfigException("command line", $"--{option.Key}", $"unknown option; the command line takes only --config FILE, --urls URLS and --h2c-urls URLS, every other setting is a key of the config file (docs/configuration.md).");
            }
        }

        return commandLine;
    }

    /// <summary>Every URL of <paramref name="option"/> must be one the silo can listen on: <c>http://</c>, an IP address (or localhost, <c>*</c>, <c>+</c>), a port.</summary>
    private static void RefuseUnusableUrls(string option, string? urls)
    {
        foreach (string url in (urls ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!Uri.TryCreate(url.Replace("*", "0.0.0.0", StringComparison.Ordinal).Replace("+", "0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out Uri? uri)
                || uri.Scheme != Uri.UriSchemeHttp
                || uri.AbsolutePath != "/"
                || !(uri.IsLoopback || IPAddress.TryParse(uri.Host.Trim('[', ']'), out _)))
            {
                throw new SiloConfigException("command line", option, $"'{url}' is not a URL the silo can listen on: http://ADDRESS:PORT with an IP address, localhost, * or + (several separated by ';').");
            }
        }
    }

    /// <summary>
    /// Turns what the host would report at start-up (an invalid option, a module that cannot load) into a configuration
    /// error naming the file and the key, or null for anything else.
    /// </summary>
    private static SiloConfigException? AsConfigError(string configPath, Exception exception) => exception switch
    {
        SiloConfigException config => config,
        Modules.ModuleLoadException module => new SiloConfigException(configPath, module.ConfigLocation, $"cannot load module '{module.ModuleType}': {module.Reason}"),
        OptionsValidationException options => OptionError(configPath, options),
        AggregateException { InnerExceptions: [OptionsValidationException options, ..] } => OptionError(configPath, options),
        _ => null,
    };

    /// <summary>An option that failed validation: the key is the dotted name the message starts with, else the options' section.</summary>
    private static SiloConfigException OptionError(string configPath, OptionsValidationException exception)
    {
        string failure = exception.Failures.FirstOrDefault() ?? exception.Message;
        System.Text.RegularExpressions.Match key = OptionKey().Match(failure);
        return key.Success
            ? new SiloConfigException(configPath, key.Groups["key"].Value, failure[key.Length..].TrimStart(':', ' '))
            : new SiloConfigException(configPath, exception.OptionsType == typeof(Hosting.PresenceOptions) ? "presence" : exception.OptionsName ?? exception.OptionsType.Name, failure);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^(?<key>[a-z_]+(\.[a-z_]+)*)(?=[: ])")]
    private static partial System.Text.RegularExpressions.Regex OptionKey();

    /// <summary>
    /// The start-up hint: a PUT and a sync for <c>@alice</c> on this silo's <c>server_name</c>, with the bearer header when
    /// frontend tokens are configured (as <c>$TOKEN</c>: the token itself is never logged).
    /// </summary>
    internal static string HowTo(string url, SiloConfigFile config)
    {
        // curl reads [ ] in a URL as a glob: escape them (an IPv6 literal server name).
        string user = $"@alice:{config.ServerName}".Replace("[", "%5B", StringComparison.Ordinal).Replace("]", "%5D", StringComparison.Ordinal);
        string auth = config.FrontendTokens.Count > 0 ? "-H \"Authorization: Bearer $TOKEN\" " : string.Empty;
        string prefix = config.FrontendTokens.Count > 0 ? "with TOKEN set to one of frontend_tokens, " : string.Empty;
        return $"{prefix}curl {auth}-X PUT '{url}/v1/presence/{user}/status' -d '{{\"presence\":\"online\"}}'  then  curl {auth}'{url}/v1/sync/{user}'";
    }

    private static void Listen(Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions kestrel, string url, Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols protocols)
    {
        var uri = new Uri(url.Replace("*", "0.0.0.0", StringComparison.Ordinal).Replace("+", "0.0.0.0", StringComparison.Ordinal));
        IPAddress address = uri.IsLoopback && !IPAddress.TryParse(uri.Host, out _) ? IPAddress.Loopback : IPAddress.Parse(uri.Host.Trim('[', ']'));
        kestrel.Listen(address, uri.Port, o => o.Protocols = protocols);
    }

    private static bool IsLoopback(string url)
    {
        if (!Uri.TryCreate(url.Replace("*", "0.0.0.0", StringComparison.Ordinal).Replace("+", "0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out Uri? uri))
        {
            return false;
        }

        return uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out IPAddress? address) && IPAddress.IsLoopback(address));
    }

    [LoggerMessage(EventId = 100, EventName = "SiloUp", Level = LogLevel.Information,
        Message = "PresenceGrid silo is up: listening on {Urls}; config {ConfigFile}; server names {ServerNames}; modules: {Modules}. Ctrl+C stops it.")]
    private static partial void LogUp(ILogger logger, string urls, string configFile, string serverNames, string modules);

    [LoggerMessage(EventId = 104, EventName = "SiloStopped", Level = LogLevel.Information, Message = "Silo {SiloName} stopped.")]
    private static partial void LogStopped(ILogger logger, string siloName);

    [LoggerMessage(EventId = 101, EventName = "LoopbackOnly", Level = LogLevel.Warning,
        Message = "No frontend_tokens are configured: the API accepts unauthenticated requests, so the silo listens on loopback only.")]
    private static partial void LogLoopbackOnly(ILogger logger);

    [LoggerMessage(EventId = 102, EventName = "HowTo", Level = LogLevel.Information, Message = "Try: {Commands}")]
    private static partial void LogHowTo(ILogger logger, string commands);

    [LoggerMessage(EventId = 105, EventName = "Dashboard", Level = LogLevel.Information, Message = "Orleans Dashboard: {Url}{Auth}")]
    private static partial void LogDashboard(ILogger logger, string url, string auth);

    [LoggerMessage(EventId = 103, EventName = "ConfigWarning", Level = LogLevel.Warning, Message = "Configuration: {Warning}")]
    private static partial void LogConfigWarning(ILogger logger, string warning);
}
