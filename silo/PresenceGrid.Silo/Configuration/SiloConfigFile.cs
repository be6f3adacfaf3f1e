using System.Globalization;
using PresenceGrid.Hosting;
using PresenceGrid.Presence;
using YamlDotNet.RepresentationModel;

namespace PresenceGrid.Silo.Configuration;

/// <summary>A problem in the silo's configuration file: names the file, the key and what is wrong.</summary>
public sealed class SiloConfigException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="file">The file.</param>
    /// <param name="key">The key, as a dotted path (<c>presence.enabled</c>).</param>
    /// <param name="message">What is wrong.</param>
    public SiloConfigException(string file, string key, string message)
        : base($"{file}: {key}: {message}")
    {
        File = file;
        Key = key;
    }

    /// <summary>The file.</summary>
    public string File { get; }

    /// <summary>The key.</summary>
    public string Key { get; }
}

/// <summary>
/// The silo's YAML configuration in Synapse's shape: <c>server_name</c>, <c>frontend_tokens</c>,
/// <c>presence:</c>, <c>modules:</c>, <c>exclude_rooms_from_presence</c>, <c>rc_presence</c>,
/// <c>experimental_features</c>. Unknown keys are errors (typos must not pass silently).
/// </summary>
public sealed partial class SiloConfigFile
{
    private static readonly HashSet<string> TopLevel = ["server_name", "silo_name", "frontend_tokens", "presence", "modules", "exclude_rooms_from_presence", "rc_presence", "experimental_features", "metrics", "dashboard", "cluster", "use_presence"];
    private static readonly HashSet<string> ClusterKeys = ["cluster_id", "postgres", "silo_host", "silo_port", "gateway_port", "secret", "lease_ms", "group_commit_ms", "tls_certificate", "tls_certificate_password"];
    private static readonly HashSet<string> PresenceKeys = ["enabled", "include_offline_users_on_sync", "presence_router", "router", "last_active_granularity", "sync_online_timeout", "idle_timeout", "broadcast_room_threshold", "max_sync_timeout"];

    /// <summary>Frontend tokens shorter than this are accepted with a warning.</summary>
    public const int MinTokenLength = 16;

    /// <summary>The file it was read from.</summary>
    public string Path { get; private init; } = "(none)";

    /// <summary><c>server_name</c>.</summary>
    public string ServerName { get; private set; } = "localhost";

    /// <summary><c>silo_name</c>.</summary>
    public string SiloName { get; private set; } = "embedded";

    /// <summary><c>frontend_tokens</c>: bearer tokens accepted on /v1; none means loopback only.</summary>
    public IReadOnlyList<string> FrontendTokens { get; private set; } = [];

    /// <summary><c>metrics.otlp_endpoint</c>: where to push metrics over OTLP (HTTP/protobuf); null for none.</summary>
    public Uri? OtlpEndpoint { get; private set; }

    /// <summary><c>metrics.otlp_interval</c>: how often metrics are pushed. Default 10 s.</summary>
    public TimeSpan OtlpInterval { get; private set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// <c>dashboard.enabled</c>: whether the silo serves the Orleans Dashboard; null (not given) serves it when every address
    /// the silo listens on is loopback.
    /// </summary>
    public bool? DashboardEnabled { get; private set; }

    /// <summary><c>dashboard.path</c>: where the Orleans Dashboard is served. Default <c>/dashboard</c>.</summary>
    public string DashboardPath { get; private set; } = "/dashboard";

    /// <summary>Applies the presence settings to presence options.</summary>
    public Action<PresenceOptions> ConfigurePresence { get; private set; } = _ => { };

    /// <summary>What is allowed but unwise (a short frontend token), each naming the file and the key; the silo logs them at start.</summary>
    public List<string> Warnings { get; } = [];

    /// <summary>The <c>cluster</c> section, or null for the embedded single silo (in-memory, no database).</summary>
    public ClusterSettings? Cluster { get; private set; }

    /// <summary>The <c>modules</c> and <c>presence.presence_router</c> subtrees, flattened (configuration keys).</summary>
    public Dictionary<string, string?> ModuleKeys { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The <c>modules</c>, <c>presence.presence_router</c> and <c>presence.router</c> subtrees as typed trees (PyYAML's types), for
    /// <c>AddPresenceModules</c>: modules get their <c>config:</c> whole (see <see cref="YamlConfigTree"/>).
    /// </summary>
    public System.Text.Json.Nodes.JsonObject ModuleTree { get; } = [];

    private void AddPresenceModuleTree(string key, System.Text.Json.Nodes.JsonNode? tree) =>
        ((System.Text.Json.Nodes.JsonObject)(ModuleTree["presence"] ??= new System.Text.Json.Nodes.JsonObject()))[key] = tree;

    /// <summary>The configuration <c>AddPresenceModules</c> reads: <see cref="ModuleTree"/>'s keys, carrying the tree itself.</summary>
    public IConfiguration Modules => Routing.PresenceModuleConfiguration.FromTree((System.Text.Json.Nodes.JsonObject)ModuleTree.DeepClone());

    /// <summary>Reads and validates a configuration file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The configuration.</returns>
    /// <exception cref="SiloConfigException">The file is unreadable, not YAML, or has a bad or unknown key.</exception>
    public static SiloConfigFile Load(string path)
    {
        string text;
        try
        {
            text = System.IO.File.ReadAllText(path);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new SiloConfigException(path, "(file)", $"cannot be read: {exception.Message}");
        }

        return Parse(text, path);
    }

    /// <summary>Parses configuration text.</summary>
    /// <param name="yaml">The YAML.</param>
    /// <param name="path">Its file name, for messages.</param>
    /// <returns>The configuration.</returns>
    public static SiloConfigFile Parse(string yaml, string path)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlDotNet.Core.YamlException exception)
        {
            throw new SiloConfigException(path, $"(line {exception.Start.Line})", $"not valid YAML: {exception.Message}");
        }

        var config = new SiloConfigFile { Path = path };
        var reader = new Reader(path);
        var presence = new List<Action<PresenceOptions>>();
        PresenceMode? enabledMode = null; // presence.enabled
        PresenceMode? usePresence = null; // the legacy top-level use_presence
        foreach ((YamlNode keyNode, YamlNode value) in TopLevelEntries(stream, path))
        {
            string key = ((YamlScalarNode)keyNode).Value ?? string.Empty;
            if (!TopLevel.Contains(key))
            {
                throw new SiloConfigException(path, key, $"unknown key (line {keyNode.Start.Line}); known keys: {string.Join(", ", TopLevel.Order())}.");
            }

            switch (key)
            {
                case "server_name":
                    config.ServerName = reader.String(value, key);
                    if (!Matrix.ServerName.TryParse(config.ServerName, out _))
                    {
                        throw new SiloConfigException(path, key, $"'{config.ServerName}' is not a valid server name.");
                    }

                    break;
                case "silo_name":
                    config.SiloName = reader.String(value, key);
                    break;
                case "frontend_tokens":
                    config.FrontendTokens = ReadFrontendTokens(reader, value, path, config.Warnings);
                    break;
                case "exclude_rooms_from_presence":
                    IReadOnlyList<string> rooms = reader.Strings(value, key);
                    presence.Add(o =>
                    {
                        foreach (string room in rooms)
                        {
                            o.ExcludeRoomsFromPresence.Add(room);
                        }
                    });
                    break;
                case "rc_presence":
                    ReadRatelimit(reader, value, path, presence);
                    break;
                case "use_presence":
                    usePresence = ReadMode(reader, value, key, path);
                    break;
                case "experimental_features":
                    foreach ((string sub, YamlNode subValue) in reader.Mapping(value, key))
                    {
                        if (sub != "msc3026_enabled")
                        {
                            throw new SiloConfigException(path, $"{key}.{sub}", "unknown key; known keys: msc3026_enabled.");
                        }

                        bool busy = reader.Bool(subValue, $"{key}.{sub}");
                        presence.Add(o => o.BusyEnabled = busy);
                    }

                    break;
                case "metrics":
                    foreach ((string sub, YamlNode subValue) in reader.Mapping(value, key))
                    {
                        switch (sub)
                        {
                            case "otlp_endpoint":
                                string endpoint = reader.String(subValue, $"{key}.{sub}");
                                config.OtlpEndpoint = Uri.TryCreate(endpoint, UriKind.Absolute, out Uri? uri) && uri.Scheme is "http" or "https"
                                    ? uri
                                    : throw new SiloConfigException(path, $"{key}.{sub}", $"must be an absolute http(s) URL; got '{endpoint}'.");
                                break;
                            case "otlp_interval":
                                config.OtlpInterval = reader.Duration(subValue, $"{key}.{sub}");
                                break;
                            default:
                                throw new SiloConfigException(path, $"{key}.{sub}", "unknown key; known keys: otlp_endpoint, otlp_interval.");
                        }
                    }

                    break;
                case "dashboard":
                    ReadDashboard(reader, value, path, config);
                    break;
                case "cluster":
                    config.Cluster = ReadCluster(reader, value, path);
                    break;
                case "modules":
                    if (value is not YamlSequenceNode modules)
                    {
                        throw new SiloConfigException(path, key, "must be a list of {module, config} entries.");
                    }

                    Flatten(modules, "modules", config.ModuleKeys);
                    config.ModuleTree["modules"] = YamlConfigTree.ToJson(modules, path, key);
                    break;
                case "presence":
                    foreach ((string sub, YamlNode subValue) in reader.Mapping(value, key))
                    {
                        string name = $"presence.{sub}";
                        if (!PresenceKeys.Contains(sub))
                        {
                            throw new SiloConfigException(path, name, $"unknown key; known keys: {string.Join(", ", PresenceKeys.Order())}.");
                        }

                        switch (sub)
                        {
                            case "enabled":
                                enabledMode = ReadMode(reader, subValue, name, path);
                                break;
                            case "include_offline_users_on_sync":
                                bool include = reader.Bool(subValue, name);
                                presence.Add(o => o.IncludeOfflineUsersOnSync = include);
                                break;
                            case "presence_router":
                                Flatten(subValue, $"presence:{sub}", config.ModuleKeys);
                                config.AddPresenceModuleTree(sub, YamlConfigTree.ToJson(subValue, path, name));
                                break;
                            case "router":
                                ReadRouter(reader, subValue, path, config.ModuleKeys);
                                config.AddPresenceModuleTree(sub, YamlConfigTree.ToJson(subValue, path, name));
                                break;
                            case "last_active_granularity":
                                TimeSpan granularity = reader.Duration(subValue, name);
                                presence.Add(o => o.Timings.LastActiveGranularity = granularity);
                                break;
                            case "sync_online_timeout":
                                TimeSpan syncTimeout = reader.Duration(subValue, name);
                                presence.Add(o => o.Timings.SyncOnlineTimeout = syncTimeout);
                                break;
                            case "idle_timeout":
                                TimeSpan idle = reader.Duration(subValue, name);
                                presence.Add(o => o.Timings.IdleTimeout = idle);
                                break;
                            case "max_sync_timeout":
                                TimeSpan maxSync = reader.Duration(subValue, name);
                                presence.Add(o => o.MaxSyncTimeout = maxSync);
                                break;
                            case "broadcast_room_threshold":
                                int threshold = reader.Int(subValue, name);
                                presence.Add(o => o.BroadcastRoomThreshold = threshold);
                                break;
                        }
                    }

                    break;
            }
        }

        if (enabledMode is { } enabledValue && usePresence is { } legacyValue && enabledValue != legacyValue)
        {
            throw new SiloConfigException(path, "use_presence", "conflicts with presence.enabled (use_presence is its legacy name); give only presence.enabled.");
        }

        if ((enabledMode ?? usePresence) is { } presenceMode)
        {
            presence.Add(o => o.Mode = presenceMode);
        }

        string serverName = config.ServerName;
        config.ConfigurePresence = o =>
        {
            o.ServerNames.Add(serverName);
            foreach (Action<PresenceOptions> apply in presence)
            {
                apply(o);
            }
        };
        return config;
    }

    /// <summary><c>presence.enabled</c> or the legacy top-level <c>use_presence</c>: true, false or untracked.</summary>
    private static PresenceMode ReadMode(Reader reader, YamlNode value, string name, string path)
    {
        string enabled = reader.String(value, name);
        return enabled switch
        {
            "true" or "True" => PresenceMode.Enabled,
            "false" or "False" => PresenceMode.Disabled,
            "untracked" => PresenceMode.Untracked,
            _ => throw new SiloConfigException(path, name, $"must be true, false or untracked; got '{enabled}'."),
        };
    }

    /// <summary>
    /// <c>rc_presence</c> in Synapse's shape, <c>per_user: {per_second, burst_count}</c>, or the flat
    /// <c>{per_second, burst_count}</c> (an alias); one setting given both ways is an error.
    /// </summary>
    private static void ReadRatelimit(Reader reader, YamlNode value, string path, List<Action<PresenceOptions>> presence)
    {
        var given = new HashSet<string>(StringComparer.Ordinal);
        foreach ((string sub, YamlNode subValue) in reader.Mapping(value, "rc_presence"))
        {
            if (sub == "per_user")
            {
                foreach ((string perUser, YamlNode perUserValue) in reader.Mapping(subValue, "rc_presence.per_user"))
                {
                    ReadRatelimitKey(reader, perUser, perUserValue, "rc_presence.per_user", path, given, presence);
                }
            }
            else
            {
                ReadRatelimitKey(reader, sub, subValue, "rc_presence", path, given, presence);
            }
        }
    }

    private static void ReadRatelimitKey(Reader reader, string key, YamlNode value, string prefix, string path, HashSet<string> given, List<Action<PresenceOptions>> presence)
    {
        string name = $"{prefix}.{key}";
        switch (key)
        {
            case "per_second":
                double perSecond = reader.Double(value, name);
                presence.Add(o => o.Timings.RatelimitPerSecond = perSecond);
                break;
            case "burst_count":
                int burst = reader.Int(value, name);
                presence.Add(o => o.Timings.RatelimitBurstCount = burst);
                break;
            default:
                string known = prefix == "rc_presence" ? "per_user, per_second, burst_count" : "per_second, burst_count";
                throw new SiloConfigException(path, name, $"unknown key; known keys: {known}.");
        }

        if (!given.Add(key))
        {
            throw new SiloConfigException(path, name, $"given twice: as rc_presence.per_user.{key} and as its alias rc_presence.{key}; give only rc_presence.per_user.{key}.");
        }
    }

    /// <summary>
    /// The file's top-level entries. An empty file (or one holding only comments, or <c>~</c>) has none, so every key takes its
    /// default, <c>server_name: localhost</c> included, as a file without that key does; any other non-mapping is an error.
    /// </summary>
    private static IEnumerable<KeyValuePair<YamlNode, YamlNode>> TopLevelEntries(YamlStream stream, string path) =>
        stream.Documents.Count == 0 ? [] : stream.Documents[0].RootNode switch
        {
            YamlMappingNode root => root.Children,
            YamlScalarNode { Value: null or "" or "~" or "null" } => [],
            YamlNode other => throw new SiloConfigException(path, "(file)", $"must be a mapping of keys such as server_name and presence (line {other.Start.Line}); got a {(other is YamlSequenceNode ? "list" : "single value")}."),
        };

    /// <summary><c>frontend_tokens</c>: an empty or blank token is refused (no request could ever match it); a short one is a warning.</summary>
    private static IReadOnlyList<string> ReadFrontendTokens(Reader reader, YamlNode value, string path, List<string> warnings)
    {
        IReadOnlyList<string> tokens = reader.Strings(value, "frontend_tokens");
        for (int i = 0; i < tokens.Count; i++)
        {
            string key = $"frontend_tokens[{i.ToString(CultureInfo.InvariantCulture)}]";
            if (string.IsNullOrWhiteSpace(tokens[i]))
            {
                throw new SiloConfigException(path, key, "must not be empty or whitespace (no request could present it); remove it, or leave frontend_tokens empty for a loopback-only silo.");
            }

            if (tokens[i].Length < MinTokenLength)
            {
                warnings.Add($"{path}: {key}: is shorter than {MinTokenLength} characters, which is easy to guess; use a long random token.");
            }
        }

        return tokens;
    }

    /// <summary><c>presence.router</c>: <c>module_callback_timeout</c>, a duration greater than 0 (kept as a module key for <c>AddPresenceModules</c>).</summary>
    private static void ReadRouter(Reader reader, YamlNode value, string path, Dictionary<string, string?> moduleKeys)
    {
        foreach ((string sub, YamlNode subValue) in reader.Mapping(value, "presence.router"))
        {
            string name = $"presence.router.{sub}";
            if (sub != "module_callback_timeout")
            {
                throw new SiloConfigException(path, name, "unknown key; known keys: module_callback_timeout.");
            }

            TimeSpan timeout = reader.Duration(subValue, name);
            if (timeout <= TimeSpan.Zero || timeout.TotalMilliseconds > uint.MaxValue - 1)
            {
                throw new SiloConfigException(path, name, $"must be greater than 0 and less than 49 days; got '{reader.String(subValue, name)}'.");
            }

            moduleKeys[$"presence:router:{sub}"] = reader.String(subValue, name);
        }
    }

    /// <summary>
    /// <c>dashboard</c>: <c>enabled</c> (true or false) and <c>path</c>, an absolute path of plain segments that leaves the
    /// API, <c>/healthz</c> and <c>/metrics</c> alone.
    /// </summary>
    private static void ReadDashboard(Reader reader, YamlNode value, string path, SiloConfigFile config)
    {
        foreach ((string sub, YamlNode subValue) in reader.Mapping(value, "dashboard"))
        {
            string name = $"dashboard.{sub}";
            switch (sub)
            {
                case "enabled":
                    config.DashboardEnabled = reader.Bool(subValue, name);
                    break;
                case "path":
                    string dashboardPath = reader.String(subValue, name);
                    if (!DashboardPathSyntax().IsMatch(dashboardPath))
                    {
                        throw new SiloConfigException(path, name, $"must be an absolute path such as /dashboard: segments of letters, digits, '.', '_', '~' and '-' (not '.' or '..'), no trailing '/'; got '{dashboardPath}'.");
                    }

                    if (ReservedPaths.FirstOrDefault(reserved => new PathString(dashboardPath).StartsWithSegments(reserved, StringComparison.OrdinalIgnoreCase)) is { } taken)
                    {
                        throw new SiloConfigException(path, name, $"'{dashboardPath}' is under {taken}, which the silo serves itself; choose another path such as /dashboard.");
                    }

                    config.DashboardPath = dashboardPath;
                    break;
                default:
                    throw new SiloConfigException(path, name, "unknown key; known keys: enabled, path.");
            }
        }
    }

    /// <summary>The paths the silo serves itself, which the dashboard must not take.</summary>
    private static readonly string[] ReservedPaths = ["/v1", "/healthz", "/metrics"];

    [System.Text.RegularExpressions.GeneratedRegex(@"^(/(?!\.+(/|$))[A-Za-z0-9._~-]+)+$")]
    private static partial System.Text.RegularExpressions.Regex DashboardPathSyntax();

    private static ClusterSettings? ReadCluster(Reader reader, YamlNode value, string path)
    {
        var cluster = new ClusterSettings();
        foreach ((string sub, YamlNode subValue) in reader.Mapping(value, "cluster"))
        {
            string name = $"cluster.{sub}";
            switch (sub)
            {
                case "cluster_id":
                    cluster.ClusterId = reader.String(subValue, name);
                    if (cluster.ClusterId.Length is 0 or > 40 || !cluster.ClusterId.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_'))
                    {
                        throw new SiloConfigException(path, name, $"must be 1 to 40 characters of a-z, 0-9, '-' and '_'; got '{cluster.ClusterId}'.");
                    }

                    break;
                case "postgres":
                    cluster.Postgres = reader.String(subValue, name);
                    try
                    {
                        _ = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = cluster.Postgres };
                    }
                    catch (ArgumentException exception)
                    {
                        throw new SiloConfigException(path, name, $"is not a valid connection string: {exception.Message}");
                    }

                    break;
                case "silo_host":
                    cluster.SiloHost = reader.String(subValue, name);
                    if (!System.Net.IPAddress.TryParse(cluster.SiloHost, out _) && cluster.SiloHost != "localhost")
                    {
                        throw new SiloConfigException(path, name, $"must be an IP address (the address peers dial); got '{cluster.SiloHost}'.");
                    }

                    break;
                case "silo_port":
                    cluster.SiloPort = reader.Int(subValue, name);
                    if (cluster.SiloPort is < 0 or > 65535)
                    {
                        throw new SiloConfigException(path, name, $"must be 0 (pick a free port) to 65535; got {cluster.SiloPort}.");
                    }

                    break;
                case "gateway_port":
                    cluster.GatewayPort = reader.Int(subValue, name);
                    if (cluster.GatewayPort is < 0 or > 65535)
                    {
                        throw new SiloConfigException(path, name, $"must be 0 (pick a free port) to 65535; got {cluster.GatewayPort}.");
                    }

                    break;
                case "secret":
                    cluster.Secret = reader.String(subValue, name);
                    if (cluster.Secret.Length < 16)
                    {
                        throw new SiloConfigException(path, name, "must be at least 16 characters (silos authenticate each other with it).");
                    }

                    break;
                case "tls_certificate":
                    cluster.TlsCertificate = reader.String(subValue, name);
                    if (!File.Exists(cluster.TlsCertificate))
                    {
                        throw new SiloConfigException(path, name, $"no such file: '{cluster.TlsCertificate}' (a PKCS#12 .pfx with the certificate and its private key).");
                    }

                    break;
                case "tls_certificate_password":
                    cluster.TlsCertificatePassword = reader.String(subValue, name);
                    break;
                case "lease_ms":
                    cluster.LeaseMs = reader.Int(subValue, name);
                    if (cluster.LeaseMs is < 500 or > 600_000)
                    {
                        throw new SiloConfigException(path, name, $"must be 500 to 600000 ms; got {cluster.LeaseMs}.");
                    }

                    break;
                case "group_commit_ms":
                    cluster.GroupCommitMs = reader.Int(subValue, name);
                    if (cluster.GroupCommitMs is < 0 or > 1000)
                    {
                        throw new SiloConfigException(path, name, $"must be 0 (commit at once) to 1000 ms; got {cluster.GroupCommitMs}.");
                    }

                    break;
                default:
                    throw new SiloConfigException(path, name, $"unknown key; known keys: {string.Join(", ", ClusterKeys.Order())}.");
            }
        }

        if (cluster.Postgres is null)
        {
            // No database: the embedded single silo, whatever else the section says.
            return null;
        }

        if (cluster.ClusterId is null)
        {
            throw new SiloConfigException(path, "cluster.cluster_id", "is required with cluster.postgres (silos with the same id and database form one cluster).");
        }

        if (cluster.Secret is null)
        {
            throw new SiloConfigException(path, "cluster.secret", "is required with cluster.postgres (silos authenticate each other with it).");
        }

        return cluster;
    }

    /// <summary>Flattens a YAML subtree into configuration keys (<c>modules:0:config:routes:...</c>).</summary>
    private static void Flatten(YamlNode node, string prefix, Dictionary<string, string?> keys)
    {
        switch (node)
        {
            case YamlMappingNode mapping:
                foreach ((YamlNode key, YamlNode value) in mapping.Children)
                {
                    Flatten(value, $"{prefix}:{((YamlScalarNode)key).Value}", keys);
                }

                break;
            case YamlSequenceNode sequence:
                for (int i = 0; i < sequence.Children.Count; i++)
                {
                    Flatten(sequence.Children[i], $"{prefix}:{i.ToString(CultureInfo.InvariantCulture)}", keys);
                }

                break;
            case YamlScalarNode scalar:
                keys[prefix] = scalar.Value;
                break;
        }
    }

    private sealed class Reader(string path)
    {
        public string String(YamlNode node, string key) =>
            node is YamlScalarNode { Value: { } value } ? value : throw new SiloConfigException(path, key, "must be a string.");

        public IReadOnlyList<string> Strings(YamlNode node, string key) =>
            node is YamlSequenceNode sequence
                ? [.. sequence.Children.Select((item, i) => String(item, $"{key}[{i}]"))]
                : throw new SiloConfigException(path, key, "must be a list of strings.");

        public IEnumerable<(string Key, YamlNode Value)> Mapping(YamlNode node, string key) =>
            node is YamlMappingNode mapping
                ? mapping.Children.Select(c => (((YamlScalarNode)c.Key).Value ?? string.Empty, c.Value))
                : throw new SiloConfigException(path, key, "must be a mapping.");

        public bool Bool(YamlNode node, string key) =>
            bool.TryParse(String(node, key), out bool value) ? value : throw new SiloConfigException(path, key, "must be true or false.");

        public int Int(YamlNode node, string key) =>
            int.TryParse(String(node, key), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= 0
                ? value
                : throw new SiloConfigException(path, key, "must be a whole number ≥ 0.");

        public double Double(YamlNode node, string key) =>
            double.TryParse(String(node, key), NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && value >= 0
                ? value
                : throw new SiloConfigException(path, key, "must be a number ≥ 0.");

        public TimeSpan Duration(YamlNode node, string key)
        {
            try
            {
                return PresenceTimings.ParseDuration(String(node, key));
            }
            catch (Exception exception) when (exception is FormatException or OverflowException)
            {
                throw new SiloConfigException(path, key, $"'{String(node, key)}' is not a valid duration. Use a Synapse duration such as 500 (ms), 30s, 5m.");
            }
        }
    }
}

/// <summary>The <c>cluster</c> section of the silo configuration.</summary>
public sealed class ClusterSettings
{
    /// <summary>Silos with the same id and database form one cluster.</summary>
    public string? ClusterId { get; set; }

    /// <summary>The PostgreSQL connection string (membership, directory, state).</summary>
    public string? Postgres { get; set; }

    /// <summary>The address peers dial for silo-to-silo traffic.</summary>
    public string SiloHost { get; set; } = "127.0.0.1";

    /// <summary>The silo-to-silo port (0 = a free port).</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>The port Orleans clients (the .NET SDK's Orleans transport) connect to (0 = a free port).</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>The cluster secret silos authenticate each other with.</summary>
    public string? Secret { get; set; }

    /// <summary>A PKCS#12 file with this silo's TLS certificate and key: silo and gateway connections use TLS (null: plain TCP).</summary>
    public string? TlsCertificate { get; set; }

    /// <summary>The password of <see cref="TlsCertificate"/>, if any.</summary>
    public string? TlsCertificatePassword { get; set; }

    /// <summary>Failure detection: a silo that stops answering is declared dead within about this many milliseconds.</summary>
    public int LeaseMs { get; set; } = 10_000;

    /// <summary>How long a silo's state writes gather before one transaction commits them, in milliseconds.</summary>
    public int GroupCommitMs { get; set; } = 2;
}
