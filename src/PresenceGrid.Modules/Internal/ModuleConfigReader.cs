using System.Globalization;
using Microsoft.Extensions.Configuration;
using PresenceGrid.Matrix;

namespace PresenceGrid.Modules.Internal;

/// <summary>Validation helpers for the built-in modules' <c>ParseConfig</c>.</summary>
internal static class ModuleConfigReader
{
    /// <summary>Rejects keys other than <paramref name="allowed"/> (catches typos such as <c>blacklisted_user</c>).</summary>
    public static void RejectUnknownKeys(IConfiguration config, params ReadOnlySpan<string> allowed)
    {
        foreach (var child in config.GetChildren())
        {
            var known = false;
            foreach (var name in allowed)
            {
                if (string.Equals(child.Key, name, StringComparison.OrdinalIgnoreCase))
                {
                    known = true;
                    break;
                }
            }

            if (!known)
            {
                throw new ModuleConfigException(child.Key, $"Unknown option '{child.Key}'; expected {string.Join(", ", allowed.ToArray())}.");
            }
        }
    }

    /// <summary>Reads an optional list of MXIDs; a missing or empty key gives an empty list.</summary>
    public static List<UserId> ReadUserIdList(IConfigurationSection section, string key)
    {
        var result = new List<UserId>();
        var children = ListItems(section, key);
        for (var i = 0; i < children.Count; i++)
        {
            result.Add(ParseUserId(children[i], $"{key}[{i}]"));
        }

        return result;
    }

    /// <summary>The items of a YAML/JSON list section; throws when the section is a scalar or a mapping.</summary>
    public static List<IConfigurationSection> ListItems(IConfigurationSection section, string key)
    {
        var children = section.GetChildren().ToList();
        if (children.Count == 0)
        {
            // Absent, null, or an empty list (providers store "[]" as an empty value).
            if (!string.IsNullOrEmpty(section.Value))
            {
                throw new ModuleConfigException(key, $"'{key}' must be a list of user ids, not the single value '{section.Value}'.");
            }

            return children;
        }

        for (var i = 0; i < children.Count; i++)
        {
            var child = children[i];
            if (!int.TryParse(child.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _) || child.Value is null)
            {
                throw new ModuleConfigException(key, $"'{key}' must be a list of user ids.");
            }
        }

        return children;
    }

    private static UserId ParseUserId(IConfigurationSection item, string key)
    {
        var value = item.Value;
        if (!UserId.TryParse(value, out var userId))
        {
            var reason = value is null ? "missing" : TryExplain(value);
            throw new ModuleConfigException(key, $"{key}: '{value}' is not a valid Matrix user id ({reason}).");
        }

        return userId;
    }

    /// <summary>The validation message of <see cref="UserId.Parse"/>, without its prefix.</summary>
    public static string TryExplain(string value)
    {
        try
        {
            UserId.Parse(value);
            return "invalid";
        }
        catch (MatrixValidationException e)
        {
            const string Prefix = "Invalid user_id: ";
            var message = e.Message.TrimEnd('.');
            return message.StartsWith(Prefix, StringComparison.Ordinal) ? message[Prefix.Length..] : message;
        }
    }
}
