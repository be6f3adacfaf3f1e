using System.Reflection;
using System.Runtime.ExceptionServices;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using PresenceGrid.Modules;

namespace PresenceGrid.Routing;

/// <summary>
/// Creates the configured modules at start-up, in Synapse's order: the <c>modules:</c> entries in configuration order, then the legacy
/// <c>presence.presence_router</c>. Reflection is used here only; the callbacks it produces are plain delegates.
/// </summary>
/// <remarks>
/// <para>Type names: <c>Namespace.Type</c> is looked up in <c>PresenceGrid.Modules</c> (the built-in modules), <c>Namespace.Type, Assembly</c>
/// anywhere. Construction: if the type has a public static <c>ParseConfig(JsonObject)</c> (the module's <c>config:</c> as a faithful tree,
/// <see cref="ModuleConfiguration.ConfigTree"/>) or <c>ParseConfig(IConfiguration)</c> (flattened keys), it is called (the tree form
/// first) and its result is passed to a public constructor <c>(TConfig, IModuleApi)</c> where TConfig is ParseConfig's return type;
/// otherwise the constructor <c>(JsonObject, IModuleApi)</c> or <c>(IConfiguration, IModuleApi)</c> is used, in that order.</para>
/// <para>Legacy style: constructed the same way; then the methods <c>GetUsersForStatesAsync</c> / <c>GetUsersForStates</c> and
/// <c>GetInterestedUsersAsync</c> / <c>GetInterestedUsers</c> (see <see cref="LegacyRouterAdapter"/>) are wrapped and registered, unless
/// the module already registered callbacks in its constructor.</para>
/// Every failure throws a <see cref="ModuleLoadException"/> naming the module type, its location and the problem.
/// </remarks>
internal sealed class ModuleLoader
{
    /// <summary>The assembly searched for names without an assembly part.</summary>
    public static readonly Assembly BuiltInAssembly = typeof(AlwaysSendToUsersRouter).Assembly;

    private const string ParseConfigName = "ParseConfig";

    private readonly PresenceRouterPipeline _pipeline;
    private readonly ModuleHost _host;
    private readonly ILogger _logger;

    public ModuleLoader(PresenceRouterPipeline pipeline, ModuleHost host)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(host);
        _pipeline = pipeline;
        _host = host;
        _logger = host.LoggerFactory.CreateLogger<ModuleLoader>();
    }

    /// <summary>
    /// Reads Synapse-shaped configuration: the <c>modules</c> list (each with <c>module</c> and <c>config</c>) and
    /// <c>presence:presence_router</c> (<c>module</c> and <c>config</c>).
    /// </summary>
    /// <param name="root">The configuration root (the homeserver configuration).</param>
    /// <returns>The <c>modules:</c> entries in order, and the legacy router or <see langword="null"/>.</returns>
    /// <exception cref="ModuleLoadException">An entry has no <c>module</c>.</exception>
    public static (IReadOnlyList<ModuleConfiguration> Modules, ModuleConfiguration? LegacyPresenceRouter) ReadConfiguration(IConfiguration root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var tree = PresenceModuleConfiguration.FindTree(root);
        var modules = new List<ModuleConfiguration>();
        foreach (var entry in root.GetSection("modules").GetChildren())
        {
            var index = modules.Count;
            modules.Add(ReadEntry(entry, ModuleIdentity.ModulesLocation(index), tree, t => (t["modules"] as JsonArray)?[index]));
        }

        var legacySection = root.GetSection("presence:presence_router");
        var legacy = legacySection.Exists()
            ? ReadEntry(legacySection, ModuleIdentity.LegacyLocation, tree, t => (t["presence"] as JsonObject)?["presence_router"])
            : null;
        return (modules, legacy);
    }

    /// <summary>Loads every module, registers their callbacks in order and seals the pipeline.</summary>
    /// <param name="modules">The <c>modules:</c> entries, in configuration order.</param>
    /// <param name="legacyPresenceRouter">The legacy <c>presence.presence_router</c>, or <see langword="null"/>.</param>
    /// <returns>The instances, in load order.</returns>
    /// <exception cref="ModuleLoadException">A module cannot be loaded; start-up must stop.</exception>
    public IReadOnlyList<LoadedModule> Load(IReadOnlyList<ModuleConfiguration> modules, ModuleConfiguration? legacyPresenceRouter)
    {
        ArgumentNullException.ThrowIfNull(modules);
        var loaded = new List<LoadedModule>(modules.Count + 1);
        for (var i = 0; i < modules.Count; i++)
        {
            loaded.Add(LoadOne(modules[i], ModuleIdentity.ModulesLocation(i), legacy: false));
        }

        // Synapse's load_legacy_presence_router runs after the modules, so the legacy router is always last.
        if (legacyPresenceRouter is not null)
        {
            loaded.Add(LoadOne(legacyPresenceRouter, ModuleIdentity.LegacyLocation, legacy: true));
        }

        _pipeline.Seal();
        return loaded;
    }

    /// <summary>The config types a module may take, preferred first: the faithful tree, then flattened keys.</summary>
    private static readonly Type[] ConfigTypes = [typeof(JsonObject), typeof(IConfiguration)];

    private static (MethodInfo? Method, Type? Input) FindParseConfig(Type type)
    {
        foreach (var input in ConfigTypes)
        {
            var method = type.GetMethod(ParseConfigName, BindingFlags.Public | BindingFlags.Static, [input]);
            if (method is not null && method.ReturnType != typeof(void))
            {
                return (method, input);
            }
        }

        return (null, null);
    }

    /// <summary>
    /// The module's config as <paramref name="configType"/>: the flattened section, or a private copy of the tree (a missing or null
    /// <c>config:</c> is an empty mapping, as Synapse's <c>provider.get("config") or {}</c>).
    /// </summary>
    private static object ConfigArgument(Type configType, ModuleConfiguration configuration, ModuleIdentity identity)
    {
        if (configType == typeof(IConfiguration))
        {
            return configuration.Config;
        }

        var tree = configuration.ConfigTree ?? (configuration.Config is IConfigurationSection section ? PresenceModuleConfiguration.FromSection(section) : null);
        return tree switch
        {
            null => new JsonObject(),
            JsonObject map => map.DeepClone(),
            _ => throw new ModuleLoadException(identity.Name, identity.Location,
                $"its config must be a mapping (this module takes a JsonObject); got a {tree.GetValueKind().ToString().ToLowerInvariant()}."),
        };
    }

    /// <summary>Resolves a configured type name.</summary>
    /// <exception cref="ModuleLoadException">No such type, or it cannot be instantiated.</exception>
    internal static Type ResolveType(string typeName, string location)
    {
        Type? type;
        try
        {
            type = BuiltInAssembly.GetType(typeName, throwOnError: false, ignoreCase: false)
                ?? Type.GetType(typeName, throwOnError: false, ignoreCase: false);
        }
        catch (Exception e) when (e is ArgumentException or IOException or BadImageFormatException or TypeLoadException)
        {
            throw new ModuleLoadException(typeName, location, $"unknown type: {e.Message}", e);
        }

        if (type is null)
        {
            var hint = typeName.Contains(',', StringComparison.Ordinal)
                ? "the type or its assembly was not found"
                : $"there is no such type in {BuiltInAssembly.GetName().Name}; name a type of another assembly as 'Namespace.Type, Assembly'";
            throw new ModuleLoadException(typeName, location, $"unknown type: {hint}.");
        }

        if (!type.IsClass || type.IsAbstract || type.ContainsGenericParameters)
        {
            throw new ModuleLoadException(typeName, location, "the type must be a non-abstract, non-generic class.");
        }

        return type;
    }

    /// <summary>Reads one entry; its <see cref="ModuleConfiguration.ConfigTree"/> comes from the faithful tree when there is one.</summary>
    private static ModuleConfiguration ReadEntry(IConfigurationSection entry, string location, JsonObject? tree, Func<JsonObject, JsonNode?> findEntry)
    {
        var typeName = entry["module"];
        if (string.IsNullOrWhiteSpace(typeName))
        {
            throw new ModuleLoadException("(none)", location, "'module' is missing or empty; it must name the module type.");
        }

        var config = entry.GetSection("config");
        var configTree = tree is null ? PresenceModuleConfiguration.FromSection(config) : (findEntry(tree) as JsonObject)?["config"];
        return new ModuleConfiguration(typeName.Trim(), config) { ConfigTree = configTree };
    }

    private LoadedModule LoadOne(ModuleConfiguration configuration, string location, bool legacy)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (string.IsNullOrWhiteSpace(configuration.TypeName))
        {
            throw new ModuleLoadException("(none)", location, "no module type is given.");
        }

        var type = ResolveType(configuration.TypeName, location);
        var identity = new ModuleIdentity(type.FullName ?? configuration.TypeName, location);
        var api = new ModuleApi(identity, _pipeline, _host);
        var instance = Construct(type, configuration, api, identity);

        if (legacy)
        {
            if (api.RegisteredPresenceRouter)
            {
                RoutingLog.LegacyRouterRegisteredItself(_logger, identity.Name);
            }
            else
            {
                var getUsersForStates = LegacyRouterAdapter.CreateGetUsersForStates(instance, identity);
                var getInterestedUsers = LegacyRouterAdapter.CreateGetInterestedUsers(instance, identity);
                if ((getUsersForStates is null) != (getInterestedUsers is null))
                {
                    var (has, lacks) = getUsersForStates is null
                        ? ("GetInterestedUsers(Async)", "GetUsersForStates(Async)")
                        : ("GetUsersForStates(Async)", "GetInterestedUsers(Async)");
                    throw new ModuleLoadException(identity.Name, location,
                        $"the legacy presence router defines {has} but not {lacks}; a presence router must have both callbacks or neither.");
                }

                if (getUsersForStates is null)
                {
                    RoutingLog.LegacyRouterHasNoCallbacks(_logger, identity.Name);
                }
                else
                {
                    api.RegisterPresenceRouterCallbacks(getUsersForStates, getInterestedUsers);
                }
            }
        }

        RoutingLog.ModuleLoaded(_logger, identity.Name, location);
        return new LoadedModule(identity, instance);
    }

    private static object Construct(Type type, ModuleConfiguration configuration, ModuleApi api, ModuleIdentity identity)
    {
        // A faithful tree (JsonObject) is preferred over flattened keys (IConfiguration), for ParseConfig and for the constructor.
        ConstructorInfo? constructor;
        object? config;
        var (parseConfig, parseInput) = FindParseConfig(type);
        if (parseConfig is not null)
        {
            try
            {
                config = parseConfig.Invoke(null, [ConfigArgument(parseInput!, configuration, identity)]);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                var inner = e.InnerException;
                throw new ModuleLoadException(identity.Name, identity.Location,
                    $"its configuration is invalid: ParseConfig threw {inner.GetType().Name}: {inner.Message}", inner);
            }

            if (config is null)
            {
                throw new ModuleLoadException(identity.Name, identity.Location, "ParseConfig returned null.");
            }

            constructor = type.GetConstructor([parseConfig.ReturnType, typeof(IModuleApi)]);
            if (constructor is null)
            {
                throw new ModuleLoadException(identity.Name, identity.Location,
                    $"no suitable constructor: a module with a static ParseConfig needs a public constructor ({parseConfig.ReturnType.Name} config, IModuleApi api).");
            }
        }
        else
        {
            var configType = ConfigTypes.FirstOrDefault(t => type.GetConstructor([t, typeof(IModuleApi)]) is not null);
            constructor = configType is null ? null : type.GetConstructor([configType, typeof(IModuleApi)]);
            if (constructor is null)
            {
                throw new ModuleLoadException(identity.Name, identity.Location,
                    "no suitable constructor: expected a public constructor (JsonObject config, IModuleApi api) or (IConfiguration config, IModuleApi api), "
                    + "or a public static TConfig ParseConfig(JsonObject) or ParseConfig(IConfiguration) and a public constructor (TConfig config, IModuleApi api).");
            }

            config = ConfigArgument(configType!, configuration, identity);
        }

        try
        {
            return constructor.Invoke([config, api]);
        }
        catch (TargetInvocationException e) when (e.InnerException is ModuleLoadException inner)
        {
            // Raised by a registration in the constructor (for example only one router callback); it already names the module.
            ExceptionDispatchInfo.Throw(inner);
            throw;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            var inner = e.InnerException;
            throw new ModuleLoadException(identity.Name, identity.Location,
                $"its constructor threw {inner.GetType().Name}: {inner.Message}", inner);
        }
    }
}
