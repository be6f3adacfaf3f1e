using System.Text.Json;
using PresenceGrid.Hosting;
using PresenceGrid.Matrix;
using PresenceGrid.Routing;

namespace PresenceGrid.Silo.Api;

/// <summary>
/// The endpoints a homeserver's module uses (docs/api.md, "Synapse module endpoints"): the grid's routing asked with
/// Synapse's own arguments, and a batched mirror of the homeserver's presence.
/// </summary>
internal static class RouterApi
{
    /// <summary>The largest body of a batch endpoint: room for <see cref="SynapseStates.MaxStatesPerRequest"/> states with statuses.</summary>
    public const int MaxBatchBodyBytes = 8 << 20;

    public static void Map(WebApplication app)
    {
        app.MapPost("/v1/router/users_for_states", PresenceApi.Handle(UsersForStatesAsync));
        app.MapGet("/v1/router/interested/{userId}", PresenceApi.Handle(InterestedAsync));
        app.MapPost("/v1/ingest/states", PresenceApi.Handle(IngestStatesAsync));
    }

    /// <summary>The merged <c>get_users_for_states</c>: <c>{"users": {recipient: [state, ...]}}</c>, plus the items refused.</summary>
    private static async Task UsersForStatesAsync(HttpContext context, PresenceService presence)
    {
        using JsonDocument body = await Json.ReadBodyAsync(context.Request, MaxBatchBodyBytes, context.RequestAborted);
        var errors = new List<FederationItemError>();
        List<UserPresenceState> states = ReadStates(body.RootElement, presence, errors);
        IReadOnlyDictionary<string, IReadOnlySet<UserPresenceState>> routed = await presence.GetUsersForStatesAsync(states);
        await Json.WriteAsync(context.Response, w =>
        {
            w.WriteStartObject();
            w.WriteStartObject("users");
            foreach ((string recipient, IReadOnlySet<UserPresenceState> recipientStates) in routed)
            {
                w.WriteStartArray(recipient);
                foreach (UserPresenceState state in recipientStates)
                {
                    SynapseStates.Write(w, state);
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
            PresenceApi.WriteItemErrors(w, errors);
            w.WriteEndObject();
        });
    }

    /// <summary>The merged <c>get_interested_users</c>: <c>{"users": [user, ...]}</c> or <c>{"users": "ALL"}</c>.</summary>
    private static async Task InterestedAsync(HttpContext context, PresenceService presence)
    {
        PresenceInterest interest = await presence.GetInterestedUsersAsync(PresenceApi.Route(context, "userId"));
        await Json.WriteAsync(context.Response, w =>
        {
            w.WriteStartObject();
            if (interest.All)
            {
                w.WriteString("users", "ALL");
            }
            else
            {
                w.WriteStartArray("users");
                foreach (string user in interest.Users.Order(StringComparer.Ordinal))
                {
                    w.WriteStringValue(user);
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
        });
    }

    /// <summary>The homeserver's presence, mirrored: the valid states are recorded (latest per user), the others listed.</summary>
    private static async Task IngestStatesAsync(HttpContext context, PresenceService presence)
    {
        using JsonDocument body = await Json.ReadBodyAsync(context.Request, MaxBatchBodyBytes, context.RequestAborted);
        var errors = new List<FederationItemError>();
        List<UserPresenceState> states = ReadStates(body.RootElement, presence, errors);
        await presence.MirrorStatesAsync(states);
        await Json.WriteAsync(context.Response, w =>
        {
            w.WriteStartObject();
            PresenceApi.WriteItemErrors(w, errors);
            w.WriteEndObject();
        });
    }

    /// <summary>The body <c>{"states": [...]}</c>: a bad body or too many states is refused whole; a bad item is listed in <paramref name="errors"/>.</summary>
    private static List<UserPresenceState> ReadStates(JsonElement root, PresenceService presence, List<FederationItemError> errors)
    {
        Json.OnlyKeys(root, "states");
        if (!root.TryGetProperty("states", out JsonElement states))
        {
            throw ApiException.BadJson("states", "is required (a list of presence states).");
        }

        if (states.ValueKind == JsonValueKind.Array && states.GetArrayLength() > SynapseStates.MaxStatesPerRequest)
        {
            throw new ApiException(413, "M_TOO_LARGE", $"states: {states.GetArrayLength()} states; at most {SynapseStates.MaxStatesPerRequest} a request.");
        }

        return SynapseStates.Read(states, presence.Options, errors);
    }
}
