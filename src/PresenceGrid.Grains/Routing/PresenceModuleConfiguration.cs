using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;

namespace PresenceGrid.Routing;

/// <summary>
/// Synapse-shaped module configuration (<c>modules:</c>, <c>presence: {presence_router, router}</c>) kept as a faithful tree, so a
/// module gets its <c>config:</c> as a Python module would: MXID-keyed maps intact, typed scalars, empty lists.
/// </summary>
/// <remarks>
/// <see cref="FromTree"/> gives the <see cref="IConfiguration"/> that <c>AddPresenceModules</c> and <c>PresenceModuleCheck</c> read:
/// its keys are the tree flattened (for modules that take <see cref="IConfiguration"/>, as before), and it carries the tree itself,
/// which <see cref="ModuleLoader"/> hands to modules that take a <see cref="JsonObject"/>. Configuration from any other source
/// (in-memory keys, JSON files, environment) still works; its tree is rebuilt from the keys, with string scalars only.
/// </remarks>
public static class PresenceModuleConfiguration
{
    /// <summary>Builds the configuration root for <c>AddPresenceModules</c> from a tree.</summary>
    /// <param name="root">
    /// <c>{"modules": [{"module": "...", "config": {...}}, ...], "presence": {"presence_router": {...}, "router": {...}}}</c>; the
    /// caller gives up the tree (it is not copied).
    /// </param>
    /// <returns>The configuration; its keys are the tree's leaves (<c>modules:0:config:key</c>), and it carries the tree.</returns>
    public static IConfigurationRoot FromTree(JsonObject root)
    {
        ArgumentNullException.ThrowIfNull(root);
        return new ConfigurationBuilder().Add(new TreeSource(root)).Build();
    }

    /// <summary>The tree behind <paramref name="configuration"/>, when it was built by <see cref="FromTree"/>.</summary>
    internal static JsonObject? FindTree(IConfiguration configuration) =>
        configuration is IConfigurationRoot root ? root.Providers.OfType<TreeProvider>().LastOrDefault()?.Root : null;

    /// <summary>Rebuilds a tree from configuration keys: sections whose keys are 0, 1, … become lists; every scalar is a string.</summary>
    internal static JsonNode? FromSection(IConfigurationSection section)
    {
        var children = section.GetChildren().ToList();
        if (children.Count == 0)
        {
            return section.Value is null ? null : JsonValue.Create(section.Value);
        }

        bool isList = true;
        for (int i = 0; i < children.Count && isList; i++)
        {
            isList = children.Any(c => c.Key == i.ToString(CultureInfo.InvariantCulture));
        }

        if (isList)
        {
            var list = new JsonArray();
            foreach (IConfigurationSection child in children.OrderBy(c => int.Parse(c.Key, CultureInfo.InvariantCulture)))
            {
                list.Add(FromSection(child));
            }

            return list;
        }

        var map = new JsonObject();
        foreach (IConfigurationSection child in children)
        {
            map[child.Key] = FromSection(child);
        }

        return map;
    }

    private sealed class TreeSource(JsonObject root) : IConfigurationSource
    {
        public IConfigurationProvider Build(IConfigurationBuilder builder) => new TreeProvider(root);
    }

    /// <summary>Serves the tree's leaves as keys (scalars as their JSON text, strings unquoted; empty lists and maps give no key).</summary>
    private sealed class TreeProvider(JsonObject root) : ConfigurationProvider
    {
        public JsonObject Root { get; } = root;

        public override void Load()
        {
            var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            Flatten(Root, null, data);
            Data = data;
        }

        private static void Flatten(JsonNode? node, string? path, Dictionary<string, string?> data)
        {
            switch (node)
            {
                case JsonObject map:
                    foreach ((string key, JsonNode? value) in map)
                    {
                        Flatten(value, path is null ? key : ConfigurationPath.Combine(path, key), data);
                    }

                    break;
                case JsonArray list:
                    for (int i = 0; i < list.Count; i++)
                    {
                        Flatten(list[i], ConfigurationPath.Combine(path!, i.ToString(CultureInfo.InvariantCulture)), data);
                    }

                    break;
                case JsonValue value when path is not null && value.TryGetValue(out double number):
                    // Also YAML's .inf and .nan, which have no JSON text.
                    data[path] = number.ToString("R", CultureInfo.InvariantCulture);
                    break;
                case JsonValue value when path is not null:
                    data[path] = value.GetValueKind() switch
                    {
                        JsonValueKind.String => value.GetValue<string>(),
                        JsonValueKind.True => "true",
                        JsonValueKind.False => "false",
                        _ => value.ToJsonString(),
                    };
                    break;
                case null when path is not null:
                    data[path] = null;
                    break;
            }
        }
    }
}
