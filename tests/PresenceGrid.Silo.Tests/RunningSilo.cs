using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace PresenceGrid.Silo.Tests;

/// <summary>The real silo app on Kestrel, loopback, a free port, with a config file written for the test.</summary>
internal sealed class RunningSilo : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _configFile;

    private RunningSilo(WebApplication app, string configFile, Uri address)
    {
        _app = app;
        _configFile = configFile;
        Address = address;
        Http = new HttpClient { BaseAddress = address };
    }

    public Uri Address { get; }

    public HttpClient Http { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>The silo's Orleans gateway (where an Orleans client connects).</summary>
    public System.Net.IPEndPoint Gateway
    {
        get
        {
            var endpoints = _app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Orleans.Configuration.EndpointOptions>>().Value;
            return new System.Net.IPEndPoint(endpoints.AdvertisedIPAddress, endpoints.GatewayPort);
        }
    }

    /// <summary>The silo's Orleans cluster id.</summary>
    public string ClusterId => _app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Orleans.Configuration.ClusterOptions>>().Value.ClusterId;

    public const string DefaultConfig = """
        server_name: test
        rc_presence:
          per_second: 0
          burst_count: 1
        """;

    public static async Task<RunningSilo> StartAsync(string yaml = DefaultConfig, params string[] extraArgs)
    {
        string file = Path.Combine(Path.GetTempPath(), $"pg-silo-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, yaml);
        WebApplication app = SiloApp.Build(["--config", file, "--urls", "http://127.0.0.1:0", .. extraArgs]);
        await app.StartAsync();
        string[] addresses = [.. app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses];
        return new RunningSilo(app, file, new Uri(addresses[0])) { Addresses = addresses };
    }

    /// <summary>Every address the silo listens on, in the order given (--urls, then --h2c-urls).</summary>
    public IReadOnlyList<string> Addresses { get; private init; } = [];

    public async Task<(int Status, JsonElement Body)> SendAsync(HttpMethod method, string path, string? json = null, string? token = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");

            // As HTTP clients do for large bodies: the silo can refuse (413) before the body is sent,
            // instead of closing the connection while the client still writes it.
            request.Headers.ExpectContinue = json.Length > 64 * 1024;
        }

        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using HttpResponseMessage response = await Http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        JsonElement body = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return ((int)response.StatusCode, body);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        File.Delete(_configFile);
    }
}
