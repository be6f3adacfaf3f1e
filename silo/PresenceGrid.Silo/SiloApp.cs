using OpenTelemetry.Metrics;
using System.Net;
using Microsoft.Extensions.Options;
using PresenceGrid.Matrix;
using PresenceGrid.Runtime.Configuration;
using PresenceGrid.Silo.Api;
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

    /// <summary>Builds the application from command-line arguments.</summary>
    /// <param name="args"><c>--config FILE</c>, <c>--urls URL</c>, and configuration overrides.</param>
    /// <returns>The application, not started.</returns>
    /// <exception cref="SiloConfigException">The configuration is bad.</exception>
    public static WebApplication Build(string[] args)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(args);
        string configPath = builder.Configuration["config"] ?? Path.Combine(AppContext.BaseDirectory, DefaultConfigFile);
        SiloConfigFile config = SiloConfigFile.Load(configPath);

        string urls = builder.Configuration["urls"] ?? DefaultUrl;
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
        string? h2cUrls = builder.Configuration["h2c-urls"];
        foreach (string url in (h2cUrls ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            if (config.FrontendTokens.Count == 0 && !IsLoopback(url))
            {
                throw new SiloConfigException(configPath, "frontend_tokens", $"no tokens are configured, so the silo listens on loopback only, but --h2c-urls asks for {url}.");
            }
        }

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
        // ASP.NET Core starts an Activity (and its execution-context copies) for every request while
        // this category can log at all; it only logs request start and finish, so it is switched off.
        // Unhandled request exceptions are still logged by Kestrel's own category.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });

        builder.UsePresenceGridSilo(silo =>
        {
            silo.AddGrainAssembly(PresenceGrains.Assembly).Configure<SiloOptions>(o => o.SiloName = config.SiloName);
            if (config.Cluster is { } cluster)
            {
                // A member of a cluster: PostgreSQL for membership, directory and state; Kestrel between silos.
                silo.UsePostgresClustering(
                    o =>
                    {
                        o.ConnectionString = cluster.Postgres!;
                        o.ClusterId = cluster.ClusterId!;
                        o.ApplicationName = "pgrid-" + config.SiloName;
                        o.GroupCommitWindow = TimeSpan.FromMilliseconds(cluster.GroupCommitMs);
                    },
                    o =>
                    {
                        o.LeaseTime = TimeSpan.FromMilliseconds(cluster.LeaseMs);
                        o.HttpEndpoint = urls.Split(';', StringSplitOptions.RemoveEmptyEntries)[0];
                    });
                silo.UseSiloTransport(t =>
                {
                    t.ClusterId = cluster.ClusterId!;
                    t.Secret = cluster.Secret!;
                    t.Host = cluster.SiloHost;
                    t.Port = cluster.SiloPort;
                });
            }
            else
            {
                silo.AddMemoryGrainStorage();
            }
        });
        builder.Services.AddPresenceGrid(config.ConfigurePresence);
        if (config.ModuleKeys.Count > 0)
        {
            builder.Services.AddPresenceModules(new ConfigurationBuilder().AddInMemoryCollection(config.ModuleKeys).Build());
        }

        if (config.OtlpEndpoint is { } otlp)
        {
            // Push the grid's meters over OTLP (HTTP/protobuf) to a collector.
            builder.Services.AddSingleton(_ => OpenTelemetry.Sdk.CreateMeterProviderBuilder()
                .AddMeter("PresenceGrid.Runtime", "PresenceGrid.Presence", "PresenceGrid.Routing", "PresenceGrid.Postgres")
                .AddOtlpExporter((exporter, reader) =>
                {
                    exporter.Endpoint = new Uri(otlp, "v1/metrics");
                    exporter.Protocol = OpenTelemetry.Exporter.OtlpExportProtocol.HttpProtobuf;
                    reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)config.OtlpInterval.TotalMilliseconds;
                })
                .Build());
            builder.Services.AddHostedService<OtlpStartup>();
        }

        builder.Services.AddSingleton(config);
        builder.Services.AddSingleton<PrometheusExporter>();

        WebApplication app = builder.Build();
        RequestLimits.Use(app);
        app.Use(async (context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/v1") && config.FrontendTokens.Count > 0)
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
        app.MapGet("/metrics", (RequestDelegate)(async context =>
        {
            context.Response.ContentType = "text/plain; version=0.0.4";
            await context.Response.WriteAsync(context.RequestServices.GetRequiredService<PrometheusExporter>().Scrape());
        }));
        app.MapFallback((RequestDelegate)(context => new ApiException(404, MatrixErrorCodes.NotFound, $"{context.Request.Method} {context.Request.Path}: no such endpoint.").WriteAsync(context.Response)));

        Runtime.Hosting.Silo runtimeSilo = app.Services.GetRequiredService<Runtime.Hosting.Silo>();
        _ = runtimeSilo.DeclaredDead.ContinueWith(
            _ =>
            {
                // Declared dead by the cluster: stop at once (a supervisor restarts it as a new incarnation).
                Environment.ExitCode = 3;
                app.Lifetime.StopApplication();
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
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

            LogHowTo(logger, app.Urls.FirstOrDefault() ?? DefaultUrl);
        });
        return app;
    }

    /// <summary>Creates the OTLP meter provider when the host starts (it lives until the host is disposed).</summary>
    private sealed class OtlpStartup(IServiceProvider services) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            _ = services.GetRequiredService<OpenTelemetry.Metrics.MeterProvider>();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
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

    [LoggerMessage(EventId = 101, EventName = "LoopbackOnly", Level = LogLevel.Warning,
        Message = "No frontend_tokens are configured: the API accepts unauthenticated requests, so the silo listens on loopback only.")]
    private static partial void LogLoopbackOnly(ILogger logger);

    [LoggerMessage(EventId = 102, EventName = "HowTo", Level = LogLevel.Information,
        Message = "Try: curl -X PUT {Url}/v1/presence/@alice:localhost/status -d '{{\"presence\":\"online\"}}'  then  curl '{Url}/v1/sync/@alice:localhost'")]
    private static partial void LogHowTo(ILogger logger, string url);
}
