using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using PresenceGrid.Modules;
using PresenceGrid.Silo.Configuration;

namespace PresenceGrid.Silo.Tests;

/// <summary>A module that records the config tree it was given, keyed by its <c>probe</c> value.</summary>
public sealed class ConfigRecordingModule
{
    /// <summary>What each instance received.</summary>
    public static readonly ConcurrentDictionary<string, JsonObject> Seen = new();

    /// <summary>Records <paramref name="config"/>.</summary>
    /// <param name="config">The module's config.</param>
    /// <param name="api">The module API.</param>
    public ConfigRecordingModule(JsonObject config, IModuleApi api) => Seen[config["probe"]!.GetValue<string>()] = config;
}

/// <summary>Issue 17 (porting a Synapse module 1:1): a module's YAML config reaches it as PyYAML's safe_load would give it.</summary>
public sealed class ModuleConfigTests
{
    private const string Module = "PresenceGrid.Silo.Tests.ConfigRecordingModule, PresenceGrid.Silo.Tests";

    [Fact]
    public async Task ModuleConfig_FromYaml_KeepsMxidKeys_YamlTypes_AndEmptyLists()
    {
        await using RunningSilo silo = await RunningSilo.StartAsync($$"""
            server_name: test
            modules:
              - module: "{{Module}}"
                config:
                  probe: yaml-types
                  pairs:
                    "@alice:test": "@bob:test"
                    "@carol:test:8448": ["@dave:island"]
                  enabled: true
                  legacy_yes: yes
                  off_switch: off
                  count: 3
                  hex: 0x1F
                  octal: 017
                  minutes: 1:30
                  ratio: 0.5
                  exponent: 1.0e+3
                  nothing: null
                  tilde: ~
                  blank:
                  empty: []
                  empty_map: {}
                  quoted_bool: "true"
                  quoted_number: '42'
                  block: |
                    two
                    lines
                  server: example.org:8448
            """);

        JsonObject config = ConfigRecordingModule.Seen["yaml-types"];

        JsonObject pairs = config["pairs"]!.AsObject();
        Assert.Equal(["@alice:test", "@carol:test:8448"], pairs.Select(p => p.Key));
        Assert.Equal("@bob:test", pairs["@alice:test"]!.GetValue<string>());
        Assert.Equal(["@dave:island"], pairs["@carol:test:8448"]!.AsArray().Select(u => u!.GetValue<string>()));
        Assert.True(config["enabled"]!.GetValue<bool>());
        Assert.True(config["legacy_yes"]!.GetValue<bool>());
        Assert.False(config["off_switch"]!.GetValue<bool>());
        Assert.Equal(3L, config["count"]!.GetValue<long>());
        Assert.Equal(31L, config["hex"]!.GetValue<long>());
        Assert.Equal(15L, config["octal"]!.GetValue<long>());
        Assert.Equal(90L, config["minutes"]!.GetValue<long>());
        Assert.Equal(0.5, config["ratio"]!.GetValue<double>());
        Assert.Equal(1000.0, config["exponent"]!.GetValue<double>());
        foreach (string key in new[] { "nothing", "tilde", "blank" })
        {
            Assert.True(config.ContainsKey(key), key);
            Assert.Null(config[key]);
        }

        Assert.Empty(config["empty"]!.AsArray());
        Assert.Empty(config["empty_map"]!.AsObject());
        Assert.Equal(JsonValueKind.String, config["quoted_bool"]!.GetValueKind());
        Assert.Equal("42", config["quoted_number"]!.GetValue<string>());
        Assert.Equal("example.org:8448", config["server"]!.GetValue<string>());
        Assert.Equal("two\nlines\n", config["block"]!.GetValue<string>());
    }

    [Fact]
    public void ModuleConfiguration_ForIConfigurationModules_KeepsTheFlattenedKeys()
    {
        SiloConfigFile file = SiloConfigFile.Parse("""
            server_name: test
            modules:
              - module: PresenceGrid.Modules.AlwaysSendToUsersRouter
                config:
                  always_send_to_users: ["@g:test"]
            presence:
              router:
                module_callback_timeout: 2s
            """, "m.yaml");

        Assert.Equal("@g:test", file.Modules["modules:0:config:always_send_to_users:0"]);
        Assert.Equal("PresenceGrid.Modules.AlwaysSendToUsersRouter", file.Modules["modules:0:module"]);
        Assert.Equal("2s", file.Modules["presence:router:module_callback_timeout"]);
    }
}
