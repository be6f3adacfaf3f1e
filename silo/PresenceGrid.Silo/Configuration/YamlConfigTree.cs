using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace PresenceGrid.Silo.Configuration;

/// <summary>
/// Converts YAML to a JSON tree the way Synapse's <c>yaml.safe_load</c> (PyYAML, YAML 1.1 resolution) types it, so a ported module's
/// <c>config:</c> keeps its keys whole and its scalar types: plain <c>true</c>/<c>yes</c>/<c>on</c> (and their false forms) are
/// booleans, <c>~</c>/<c>null</c>/nothing is null, integers (decimal, <c>0x</c>, leading-zero octal, <c>0b</c>, <c>_</c>
/// separators, base-60 <c>1:30</c>) and floats (<c>1.5</c>, <c>1.0e+3</c>, <c>.inf</c>, <c>.nan</c>) are numbers; quoted scalars
/// and everything else are strings.
/// </summary>
internal static partial class YamlConfigTree
{
    /// <summary>The tree of <paramref name="node"/>.</summary>
    /// <param name="node">A YAML node.</param>
    /// <param name="path">The file, for messages.</param>
    /// <param name="key">The node's dotted key, for messages.</param>
    /// <returns>A JSON node; null for a YAML null.</returns>
    /// <exception cref="SiloConfigException">A mapping key is not a scalar.</exception>
    public static JsonNode? ToJson(YamlNode node, string path, string key)
    {
        switch (node)
        {
            case YamlMappingNode mapping:
                var map = new JsonObject();
                foreach ((YamlNode childKey, YamlNode value) in mapping.Children)
                {
                    if (childKey is not YamlScalarNode { Value: { } name })
                    {
                        throw new SiloConfigException(path, key, $"a mapping key must be a plain value (line {childKey.Start.Line}).");
                    }

                    map[name] = ToJson(value, path, $"{key}.{name}");
                }

                return map;
            case YamlSequenceNode sequence:
                var list = new JsonArray();
                for (int i = 0; i < sequence.Children.Count; i++)
                {
                    list.Add(ToJson(sequence.Children[i], path, $"{key}[{i}]"));
                }

                return list;
            case YamlScalarNode scalar:
                return Scalar(scalar);
            default:
                return null;
        }
    }

    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        string text = scalar.Value ?? string.Empty;
        string tag = scalar.Tag.IsEmpty ? string.Empty : scalar.Tag.Value;
        if (tag == "tag:yaml.org,2002:str" || (scalar.Style is not (ScalarStyle.Plain or ScalarStyle.Any) && tag.Length == 0))
        {
            return JsonValue.Create(text);
        }

        if (NullPattern().IsMatch(text))
        {
            return null;
        }

        if (BoolPattern().IsMatch(text))
        {
            return JsonValue.Create(text[0] is 'y' or 'Y' or 't' or 'T' || text is "on" or "On" or "ON");
        }

        if (IntPattern().IsMatch(text) && TryParseInt(text.Replace("_", string.Empty, StringComparison.Ordinal), out JsonNode? integer))
        {
            return integer;
        }

        if (FloatPattern().IsMatch(text))
        {
            return JsonValue.Create(ParseFloat(text.Replace("_", string.Empty, StringComparison.Ordinal)));
        }

        return JsonValue.Create(text);
    }

    private static bool TryParseInt(string text, out JsonNode? value)
    {
        bool negative = text.StartsWith('-');
        string digits = text.TrimStart('-', '+');
        System.Numerics.BigInteger magnitude;
        if (digits.Contains(':', StringComparison.Ordinal))
        {
            magnitude = Sexagesimal(digits);
        }
        else if (digits.StartsWith("0b", StringComparison.Ordinal))
        {
            magnitude = Based(digits[2..], 2);
        }
        else if (digits.StartsWith("0x", StringComparison.Ordinal))
        {
            magnitude = Based(digits[2..], 16);
        }
        else if (digits.Length > 1 && digits[0] == '0')
        {
            magnitude = Based(digits[1..], 8);
        }
        else
        {
            magnitude = System.Numerics.BigInteger.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);
        }

        System.Numerics.BigInteger signed = negative ? -magnitude : magnitude;
        value = signed >= long.MinValue && signed <= long.MaxValue ? JsonValue.Create((long)signed) : JsonValue.Create((double)signed);
        return true;
    }

    private static System.Numerics.BigInteger Based(string digits, int radix)
    {
        System.Numerics.BigInteger result = 0;
        foreach (char c in digits)
        {
            result = (result * radix) + Convert.ToInt32(c.ToString(), 16);
        }

        return result;
    }

    private static System.Numerics.BigInteger Sexagesimal(string digits)
    {
        System.Numerics.BigInteger result = 0;
        foreach (string part in digits.Split(':'))
        {
            result = (result * 60) + int.Parse(part, NumberStyles.None, CultureInfo.InvariantCulture);
        }

        return result;
    }

    private static double ParseFloat(string text)
    {
        string lower = text.ToLowerInvariant();
        if (lower.EndsWith(".inf", StringComparison.Ordinal))
        {
            return lower.StartsWith('-') ? double.NegativeInfinity : double.PositiveInfinity;
        }

        if (lower == ".nan")
        {
            return double.NaN;
        }

        if (text.Contains(':', StringComparison.Ordinal))
        {
            bool negative = text.StartsWith('-');
            double result = 0;
            foreach (string part in text.TrimStart('-', '+').Split(':'))
            {
                result = (result * 60) + double.Parse(part, NumberStyles.Float, CultureInfo.InvariantCulture);
            }

            return negative ? -result : result;
        }

        return double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    // PyYAML's implicit resolvers (yaml/resolver.py), YAML 1.1.
    [GeneratedRegex("^(?:~|null|Null|NULL|)$")]
    private static partial Regex NullPattern();

    [GeneratedRegex("^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$")]
    private static partial Regex BoolPattern();

    [GeneratedRegex("^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$")]
    private static partial Regex IntPattern();

    [GeneratedRegex(@"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")]
    private static partial Regex FloatPattern();
}
