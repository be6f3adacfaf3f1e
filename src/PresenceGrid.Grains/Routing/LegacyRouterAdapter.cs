using System.Collections;
using System.Reflection;
using PresenceGrid.Matrix;
using PresenceGrid.Modules;

namespace PresenceGrid.Routing;

/// <summary>
/// Wraps a legacy presence router's methods as callbacks (Synapse <c>load_legacy_presence_router</c>): the methods are found once by
/// name, bound to typed delegates once, and wrapped so that synchronous and asynchronous methods are awaited alike.
/// </summary>
/// <remarks>
/// <para>Accepted shapes (public instance methods with one parameter; the <c>Async</c> name is preferred when both exist):</para>
/// <list type="bullet">
/// <item><c>GetUsersForStatesAsync</c> / <c>GetUsersForStates</c>: a parameter that accepts an <see cref="IReadOnlyList{T}"/> of
/// <see cref="UserPresenceState"/> (for example <see cref="IEnumerable{T}"/>); returns <c>Task&lt;R&gt;</c>, <c>ValueTask&lt;R&gt;</c> or R,
/// where R is a dictionary from user id to a set of states (any <see cref="IReadOnlyDictionary{TKey, TValue}"/> with
/// <see cref="IReadOnlySet{T}"/> values, or any <see cref="IDictionary"/> such as <c>Dictionary&lt;string, HashSet&lt;UserPresenceState&gt;&gt;</c>).</item>
/// <item><c>GetInterestedUsersAsync</c> / <c>GetInterestedUsers</c>: a parameter that accepts a <see cref="string"/>; returns
/// <c>Task&lt;R&gt;</c>, <c>ValueTask&lt;R&gt;</c> or R, where R is <see cref="InterestedUsers"/>, a set of strings, or the string
/// <c>"ALL"</c>.</item>
/// </list>
/// <para>As in Synapse, a result of another shape (a list instead of a set, a non-dictionary, a string other than "ALL") is treated as
/// malformed and skipped; a dictionary value that is not a set stops the merge of the rest of that result.</para>
/// </remarks>
internal static class LegacyRouterAdapter
{
    public static readonly string[] GetUsersForStatesNames = ["GetUsersForStatesAsync", "GetUsersForStates"];
    public static readonly string[] GetInterestedUsersNames = ["GetInterestedUsersAsync", "GetInterestedUsers"];

    private const BindingFlags PrivateStatic = BindingFlags.NonPublic | BindingFlags.Static;

    /// <summary>The wrapped <c>get_users_for_states</c>, or <see langword="null"/> when the module has no such method.</summary>
    /// <exception cref="ModuleLoadException">A method with that name exists but has an unsupported signature.</exception>
    public static GetUsersForStatesCallback? CreateGetUsersForStates(object instance, ModuleIdentity module)
    {
        var method = FindMethod(instance.GetType(), GetUsersForStatesNames, static p => p.IsAssignableFrom(typeof(IReadOnlyList<UserPresenceState>)),
            "one parameter that accepts IReadOnlyList<UserPresenceState> (for example IEnumerable<UserPresenceState>)", module);
        if (method is null)
        {
            return null;
        }

        var (shape, resultType) = ClassifyReturn(method, module);
        var factory = shape switch
        {
            ReturnShape.Task => nameof(UsersForStatesFromTask),
            ReturnShape.ValueTask => nameof(UsersForStatesFromValueTask),
            _ => nameof(UsersForStatesFromValue),
        };
        return (GetUsersForStatesCallback)typeof(LegacyRouterAdapter).GetMethod(factory, PrivateStatic)!
            .MakeGenericMethod(method.GetParameters()[0].ParameterType, resultType)
            .Invoke(null, [instance, method])!;
    }

    /// <summary>The wrapped <c>get_interested_users</c>, or <see langword="null"/> when the module has no such method.</summary>
    /// <exception cref="ModuleLoadException">A method with that name exists but has an unsupported signature.</exception>
    public static GetInterestedUsersCallback? CreateGetInterestedUsers(object instance, ModuleIdentity module)
    {
        var method = FindMethod(instance.GetType(), GetInterestedUsersNames, static p => p.IsAssignableFrom(typeof(string)),
            "one parameter that accepts a string user id", module);
        if (method is null)
        {
            return null;
        }

        var (shape, resultType) = ClassifyReturn(method, module);
        var factory = shape switch
        {
            ReturnShape.Task => nameof(InterestedUsersFromTask),
            ReturnShape.ValueTask => nameof(InterestedUsersFromValueTask),
            _ => nameof(InterestedUsersFromValue),
        };
        return (GetInterestedUsersCallback)typeof(LegacyRouterAdapter).GetMethod(factory, PrivateStatic)!
            .MakeGenericMethod(method.GetParameters()[0].ParameterType, resultType)
            .Invoke(null, [instance, method])!;
    }

    /// <summary>Converts a legacy <c>get_users_for_states</c> result; <see langword="null"/> when it is not a dictionary.</summary>
    internal static IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>>? ConvertUsersForStates(object? result)
    {
        switch (result)
        {
            case null:
                return null;
            case IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>> typed:
                return typed;
            case IDictionary dictionary:
                var entries = new List<KeyValuePair<string, IReadOnlySet<UserPresenceState>>>(dictionary.Count);
                foreach (DictionaryEntry entry in dictionary)
                {
                    var key = entry.Key as string;
                    var set = entry.Value as IReadOnlySet<UserPresenceState>;
                    // A non-string key or a non-set value: keep it as an invalid entry so the pipeline stops there (partial merge).
                    entries.Add(new(key ?? string.Empty, set!));
                    if (key is null || set is null)
                    {
                        break;
                    }
                }

                return new OrderedEntries<IReadOnlySet<UserPresenceState>>(entries);
            default:
                return null;
        }
    }

    /// <summary>Converts a legacy <c>get_interested_users</c> result; <see langword="null"/> when it is neither ALL nor a set.</summary>
    internal static InterestedUsers? ConvertInterestedUsers(object? result) => result switch
    {
        InterestedUsers users => users,
        string s when string.Equals(s, PresenceRouter.AllUsersValue, StringComparison.Ordinal) => InterestedUsers.All,
        IReadOnlySet<string> set => InterestedUsers.FromSet(set),
        ISet<string> set => InterestedUsers.FromUsers(set),
        _ => null,
    };

    private static MethodInfo? FindMethod(Type type, string[] names, Func<Type, bool> parameterFits, string expected, ModuleIdentity module)
    {
        foreach (var name in names)
        {
            MethodInfo? found = null;
            var any = false;
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance))
            {
                if (!string.Equals(method.Name, name, StringComparison.Ordinal))
                {
                    continue;
                }

                any = true;
                var parameters = method.GetParameters();
                if (method.IsGenericMethodDefinition || parameters.Length != 1 || !parameterFits(parameters[0].ParameterType))
                {
                    continue;
                }

                if (found is not null)
                {
                    throw new ModuleLoadException(module.Name, module.Location, $"the legacy presence router has several suitable {name} overloads.");
                }

                found = method;
            }

            if (found is not null)
            {
                return found;
            }

            if (any)
            {
                throw new ModuleLoadException(module.Name, module.Location,
                    $"the legacy presence router's method {name} has an unsupported signature; expected {expected}.");
            }
        }

        return null;
    }

    private static (ReturnShape Shape, Type ResultType) ClassifyReturn(MethodInfo method, ModuleIdentity module)
    {
        var returnType = method.ReturnType;
        if (returnType.IsGenericType)
        {
            var definition = returnType.GetGenericTypeDefinition();
            if (definition == typeof(Task<>))
            {
                return (ReturnShape.Task, returnType.GetGenericArguments()[0]);
            }

            if (definition == typeof(ValueTask<>))
            {
                return (ReturnShape.ValueTask, returnType.GetGenericArguments()[0]);
            }
        }

        if (returnType == typeof(void) || returnType == typeof(Task) || returnType == typeof(ValueTask))
        {
            throw new ModuleLoadException(module.Name, module.Location,
                $"the legacy presence router's method {method.Name} returns no value; it must return a result, Task<result> or ValueTask<result>.");
        }

        return (ReturnShape.Value, returnType);
    }

    // The factories below are instantiated once per legacy router with MakeGenericMethod; the delegates they return call the module's
    // method through a typed delegate, without reflection.
    private static GetUsersForStatesCallback UsersForStatesFromTask<TParameter, TResult>(object instance, MethodInfo method)
    {
        var invoke = method.CreateDelegate<Func<TParameter, Task<TResult>>>(instance);
        return async states => ConvertUsersForStates(await invoke((TParameter)(object)states));
    }

    private static GetUsersForStatesCallback UsersForStatesFromValueTask<TParameter, TResult>(object instance, MethodInfo method)
    {
        var invoke = method.CreateDelegate<Func<TParameter, ValueTask<TResult>>>(instance);
        return async states => ConvertUsersForStates(await invoke((TParameter)(object)states));
    }

    private static GetUsersForStatesCallback UsersForStatesFromValue<TParameter, TResult>(object instance, MethodInfo method)
    {
        var invoke = method.CreateDelegate<Func<TParameter, TResult>>(instance);
        return states => Task.FromResult(ConvertUsersForStates(invoke((TParameter)(object)states)));
    }

    private static GetInterestedUsersCallback InterestedUsersFromTask<TParameter, TResult>(object instance, MethodInfo method)
    {
        var invoke = method.CreateDelegate<Func<TParameter, Task<TResult>>>(instance);
        return async userId => ConvertInterestedUsers(await invoke((TParameter)(object)userId));
    }

    private static GetInterestedUsersCallback InterestedUsersFromValueTask<TParameter, TResult>(object instance, MethodInfo method)
    {
        var invoke = method.CreateDelegate<Func<TParameter, ValueTask<TResult>>>(instance);
        return async userId => ConvertInterestedUsers(await invoke((TParameter)(object)userId));
    }

    private static GetInterestedUsersCallback InterestedUsersFromValue<TParameter, TResult>(object instance, MethodInfo method)
    {
        var invoke = method.CreateDelegate<Func<TParameter, TResult>>(instance);
        return userId => Task.FromResult(ConvertInterestedUsers(invoke((TParameter)(object)userId)));
    }

    private enum ReturnShape
    {
        Task,
        ValueTask,
        Value,
    }

    /// <summary>A read-only dictionary view over entries in their original order (only enumeration is used by the pipeline).</summary>
    private sealed class OrderedEntries<TValue>(List<KeyValuePair<string, TValue>> entries) : IReadOnlyDictionary<string, TValue>
    {
        public int Count => entries.Count;

        public IEnumerable<string> Keys => entries.Select(static e => e.Key);

        public IEnumerable<TValue> Values => entries.Select(static e => e.Value);

        public TValue this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException(key);

        public bool ContainsKey(string key) => TryGetValue(key, out _);

        public bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out TValue value)
        {
            foreach (var entry in entries)
            {
                if (string.Equals(entry.Key, key, StringComparison.Ordinal))
                {
                    value = entry.Value;
                    return true;
                }
            }

            value = default;
            return false;
        }

        public IEnumerator<KeyValuePair<string, TValue>> GetEnumerator() => entries.GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
