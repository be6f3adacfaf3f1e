using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using PresenceGrid.Silo.Configuration;

namespace PresenceGrid.Silo.Tests;

/// <summary>The start-up hint (<c>Try: curl ...</c>) is a pair of commands that work against this very silo.</summary>
public sealed partial class StartupHintTests
{
    private const string Token = "hint-token-0123456789";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TheHint_RunsAsPrinted_OnTheConfiguredServerName_WithTheTokenOnlyAsAPlaceholder(bool tokens)
    {
        await using var silo = await RunningSilo.StartAsync($"server_name: hint.test\n{(tokens ? $"frontend_tokens: [\"{Token}\"]\n" : string.Empty)}");
        string hint = SiloApp.HowTo(silo.Address.ToString().TrimEnd('/'), silo.Services.GetRequiredService<SiloConfigFile>());

        Assert.DoesNotContain(Token, hint);
        Assert.Equal(tokens, hint.Contains("$TOKEN", StringComparison.Ordinal));
        MatchCollection commands = Curl().Matches(hint);
        Assert.Equal(2, commands.Count);
        foreach (Match command in commands)
        {
            // As the shell and curl run it: $TOKEN replaced, -d without -X is a POST, with -X PUT a PUT.
            string method = command.Groups["method"].Success ? command.Groups["method"].Value : command.Groups["body"].Success ? "POST" : "GET";
            using var request = new HttpRequestMessage(new HttpMethod(method), command.Groups["url"].Value);
            if (command.Groups["auth"].Success)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
            }

            if (command.Groups["body"].Success)
            {
                request.Content = new StringContent(command.Groups["body"].Value, Encoding.UTF8, "application/x-www-form-urlencoded");
            }

            using HttpResponseMessage response = await silo.Http.SendAsync(request);
            Assert.True(response.IsSuccessStatusCode, $"{command.Value}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        string alice = Uri.EscapeDataString("@alice:hint.test");
        var status = await silo.SendAsync(HttpMethod.Get, $"/v1/presence/{alice}/status?requester={alice}", token: tokens ? Token : null);
        Assert.Equal("online", status.Body.GetProperty("presence").GetString());
    }

    [GeneratedRegex("""curl (?<auth>-H "Authorization: Bearer \$TOKEN" )?(-X (?<method>[A-Z]+) )?'(?<url>[^']+)'( -d '(?<body>[^']*)')?""")]
    private static partial Regex Curl();
}
