using System.Buffers;
using System.Globalization;
using System.Text.Json;
using PresenceGrid.Federation;
using PresenceGrid.Frontend;
using PresenceGrid.Grains;
using PresenceGrid.Grains.Contracts;
using PresenceGrid.Hosting;
using PresenceGrid.Matrix;
using PresenceGrid.Sync;

namespace PresenceGrid.Silo.Api;

/// <summary>The HTTP/JSON frontend API (docs/api.md): every path maps onto <see cref="PresenceService"/>.</summary>
internal static class PresenceApi
{
    public static void Map(WebApplication app)
    {
        app.MapPut("/v1/presence/{userId}/status", Handle(SetStatusAsync));
        app.MapGet("/v1/presence/{userId}/status", Handle(GetStatusAsync));
        app.MapPost("/v1/presence/{userId}/devices/{deviceId}/sync", Handle(DeviceSyncAsync));
        app.MapPost("/v1/presence/{userId}/devices/{deviceId}/active", Handle(DeviceActiveAsync));
        app.MapPost("/v1/presence/{userId}/devices/{deviceId}/keepalive", Handle(DeviceKeepAliveAsync));
        app.MapGet("/v1/sync/{userId}", Handle(SyncAsync));
        app.MapGet("/v1/watch/{userId}", Handle(WatchAsync));
        app.MapPut("/v1/rooms/{roomId}/members/{userId}", Handle(MembershipAsync));
        app.MapPost("/v1/federation/incoming", Handle(FederationIncomingAsync));
        app.MapPost("/v1/federation/outgoing/{destination}/take", Handle(FederationTakeAsync));
        app.MapPost("/v1/modules/send_local_online_presence_to", Handle(SendLocalOnlinePresenceToAsync));
        app.MapPost("/v1/modules/set_presence_for_users", Handle(SetPresenceForUsersAsync));
        app.MapGet("/v1/admin/explain", Handle(ExplainAsync));
        app.MapGet("/v1/admin/cluster", Handle(ClusterAsync));
        app.MapGet("/v1/cluster/placement", Handle(PlacementAsync));
        app.MapGet("/healthz", (RequestDelegate)(context => Json.WriteAsync(context.Response, static w =>
        {
            w.WriteStartObject();
            w.WriteString("status", "ok");
            w.WriteEndObject();
        })));
    }

    /// <summary>A handler with the API's error handling: exceptions become the <c>{"errcode","error"}</c> answer.</summary>
    internal static RequestDelegate Handle(Func<HttpContext, PresenceService, Task> handler) => async context =>
    {
        try
        {
            await handler(context, context.RequestServices.GetRequiredService<PresenceService>());
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away.
        }
        catch (Exception exception)
        {
            ApiException error = ApiException.From(exception);
            if (error.Status == 500)
            {
                context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("PresenceGrid.Silo.Api").LogRequestFailed(exception, context.Request.Path.ToString());
            }

            if (!context.Response.HasStarted)
            {
                await error.WriteAsync(context.Response);
            }
        }
    };

    /// <summary>A path segment, fully unescaped (routing leaves <c>%2F</c> escaped).</summary>
    internal static string Route(HttpContext context, string name) => Uri.UnescapeDataString((string)context.Request.RouteValues[name]!);

    private static long Now(HttpContext context) => context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow().ToUnixTimeMilliseconds();

    private static async Task SetStatusAsync(HttpContext context, PresenceService presence)
    {
        using JsonDocument body = await Json.ReadBodyAsync(context.Request, context.RequestAborted);
        JsonElement root = body.RootElement;
        Json.OnlyKeys(root, "presence", "status_msg", "device_id");
        string presenceText = Json.RequiredString(root, "presence");
        string? status = Json.OptionalString(root, "status_msg");

        // The values are checked by the service: not at all when presence is disabled or untracked (as Synapse).
        PresenceCommandResult result = await presence.SetPresenceAsync(Route(context, "userId"), presenceText, status, Json.OptionalString(root, "device_id"));
        if (result.Outcome == PresenceCommandOutcome.RateLimited)
        {
            throw ApiException.From(FrontendError.PresenceRateLimited(result.RetryAfterMs));
        }

        await Json.WriteEmptyAsync(context.Response);
    }

    private static async Task GetStatusAsync(HttpContext context, PresenceService presence)
    {
        string requester = FrontendRequests.RequireRequester(context.Request.Query["requester"].ToString());
        UserPresenceState state = await presence.GetPresenceAsync(Route(context, "userId"), requester);
        long now = Now(context);
        await Json.WriteAsync(context.Response, w => state.WriteContent(w, now));
    }

    private static async Task DeviceSyncAsync(HttpContext context, PresenceService presence)
    {
        using JsonDocument body = await Json.ReadBodyAsync(context.Request, context.RequestAborted);
        Json.OnlyKeys(body.RootElement, "state", "set_presence");
        string state = Json.RequiredString(body.RootElement, "state");
        if (state is not ("start" or "stop"))
        {
            throw ApiException.InvalidParam("state", $"must be start or stop; got '{state}'.");
        }

        await presence.SetSyncingAsync(Route(context, "userId"), Route(context, "deviceId"), state == "start", Json.OptionalString(body.RootElement, "set_presence"));
        await Json.WriteEmptyAsync(context.Response);
    }

    private static async Task DeviceActiveAsync(HttpContext context, PresenceService presence)
    {
        await presence.BumpActiveAsync(Route(context, "userId"), Route(context, "deviceId"));
        await Json.WriteEmptyAsync(context.Response);
    }

    /// <summary>A device's sync is still open: renews its syncing lease (not activity; a no-op for a device that is not syncing).</summary>
    private static async Task DeviceKeepAliveAsync(HttpContext context, PresenceService presence)
    {
        await presence.KeepAliveAsync(Route(context, "userId"), Route(context, "deviceId"));
        await Json.WriteEmptyAsync(context.Response);
    }

    private static async Task SyncAsync(HttpContext context, PresenceService presence)
    {
        IQueryCollection query = context.Request.Query;
        bool fullState = query["full_state"].ToString() switch
        {
            "" or "false" => false,
            "true" => true,
            string other => throw ApiException.InvalidParam("full_state", $"must be true or false; got '{other}'."),
        };
        TimeSpan timeout = TimeSpan.Zero;
        if (query.TryGetValue("timeout", out var timeoutText) && timeoutText.ToString().Length > 0)
        {
            if (!long.TryParse(timeoutText.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out long ms))
            {
                throw ApiException.InvalidParam("timeout", $"must be a number of milliseconds ≥ 0; got '{timeoutText}'.");
            }

            // Any wait is cut to max_sync_timeout; beyond a day, a TimeSpan could overflow.
            timeout = TimeSpan.FromMilliseconds(Math.Min(ms, (long)TimeSpan.FromDays(1).TotalMilliseconds));
        }

        PresenceSyncResult result = await presence.SyncAsync(Route(context, "userId"), query["since"].ToString(), fullState, timeout, context.RequestAborted);
        long now = Now(context);
        await Json.WriteAsync(context.Response, w => WriteBatch(w, result, now));
    }

    /// <summary>NDJSON: one sync batch a line, each as soon as it has events; resumable from any next_batch.</summary>
    private static async Task WatchAsync(HttpContext context, PresenceService presence)
    {
        string userId = Route(context, "userId");
        string? since = context.Request.Query["since"].ToString() is { Length: > 0 } s ? s : null;
        PresenceSyncResult first = await presence.SyncAsync(userId, since, false, TimeSpan.Zero, context.RequestAborted);
        context.Response.ContentType = "application/x-ndjson";
        context.Response.Headers.CacheControl = "no-cache";
        PresenceSyncResult batch = first;
        while (!context.RequestAborted.IsCancellationRequested)
        {
            if (batch.Events.Count > 0 || batch == first)
            {
                long now = Now(context);
                using (var writer = new Utf8JsonWriter(context.Response.BodyWriter))
                {
                    WriteBatch(writer, batch, now);
                }

                context.Response.BodyWriter.Write("\n"u8);
                await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
            }

            batch = await presence.SyncAsync(userId, batch.NextBatch, false, TimeSpan.FromSeconds(30), context.RequestAborted);
        }
    }

    private static void WriteBatch(Utf8JsonWriter writer, PresenceSyncResult result, long now)
    {
        writer.WriteStartObject();
        writer.WriteStartArray("events");
        foreach (UserPresenceState state in result.Events)
        {
            state.WriteSyncEvent(writer, now);
        }

        writer.WriteEndArray();
        writer.WriteString("next_batch", result.NextBatch);
        writer.WriteEndObject();
    }

    private static async Task MembershipAsync(HttpContext context, PresenceService presence)
    {
        using JsonDocument body = await Json.ReadBodyAsync(context.Request, context.RequestAborted);
        Json.OnlyKeys(body.RootElement, "membership");
        await presence.SetMembershipAsync(Route(context, "roomId"), Route(context, "userId"), Json.RequiredString(body.RootElement, "membership"));
        await Json.WriteEmptyAsync(context.Response);
    }

    private static async Task FederationIncomingAsync(HttpContext context, PresenceService presence)
    {
        using JsonDocument body = await Json.ReadBodyAsync(context.Request, context.RequestAborted);
        JsonElement root = body.RootElement;
        Json.OnlyKeys(root, "origin", "edu_type", "content");
        string eduType = Json.RequiredString(root, "edu_type");
        if (eduType != "m.presence")
        {
            throw ApiException.InvalidParam("edu_type", $"must be m.presence; got '{eduType}'.");
        }

        if (!root.TryGetProperty("content", out JsonElement content))
        {
            throw ApiException.BadJson("content", "is required.");
        }

        IReadOnlyList<FederationItemError> errors = await presence.ReceiveFederationAsync(Json.RequiredString(root, "origin"), content);
        await Json.WriteAsync(context.Response, w =>
        {
            w.WriteStartObject();
            WriteItemErrors(w, errors);
            w.WriteEndObject();
        });
    }

    /// <summary>The rejected items of a batch, as <c>"errors": [{"index", "errcode", "error"}]</c>; nothing when there are none.</summary>
    internal static void WriteItemErrors(Utf8JsonWriter w, IReadOnlyList<FederationItemError> errors)
    {
        if (errors.Count == 0)
        {
            return;
        }

        w.WriteStartArray("errors");
        foreach (FederationItemError error in errors)
        {
            w.WriteStartObject();
            w.WriteNumber("index", error.Index);
            w.WriteString("errcode", FrontendError.ItemErrCode(error.ErrCode));
            w.WriteString("error", error.Error);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    private static async Task FederationTakeAsync(HttpContext context, PresenceService presence)
    {
        int limit = 1;
        string limitText = context.Request.Query["limit"].ToString();
        if (limitText.Length > 0 && !int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit))
        {
            throw ApiException.InvalidParam("limit", $"must be a whole number from 1 to 100; got '{limitText}'.");
        }

        IReadOnlyList<PresenceEdu> edus = await presence.TakeOutgoingAsync(Route(context, "destination"), limit);
        long now = Now(context);
        await Json.WriteAsync(context.Response, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("edus");
            foreach (PresenceEdu edu in edus)
            {
                w.WriteStartObject();
                w.WriteString("edu_type", "m.presence");
                w.WriteStartObject("content");
                w.WriteStartArray("push");
                foreach (UserPresenceState state in edu.Push)
                {
                    state.WriteContent(w, now, includeUserId: true);
                }

                w.WriteEndArray();
                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    private static async Task SendLocalOnlinePresenceToAsync(HttpContext context, PresenceService presence)
    {
        using JsonDocument body = await Json.ReadBodyAsync(context.Request, context.RequestAborted);
        Json.OnlyKeys(body.RootElement, "users");
        if (!body.RootElement.TryGetProperty("users", out JsonElement users) || users.ValueKind != JsonValueKind.Array)
        {
            throw ApiException.BadJson("users", "must be a list of user ids.");
        }

        var ids = new List<string>();
        int i = 0;
        foreach (JsonElement user in users.EnumerateArray())
        {
            ids.Add(user.ValueKind == JsonValueKind.String ? user.GetString()! : throw ApiException.BadJson($"users[{i}]", "must be a string."));
            i++;
        }

        await presence.SendLocalOnlinePresenceToAsync(ids);
        await Json.WriteEmptyAsync(context.Response);
    }

    private static async Task SetPresenceForUsersAsync(HttpContext context, PresenceService presence)
    {
        using JsonDocument body = await Json.ReadBodyAsync(context.Request, context.RequestAborted);
        Json.OnlyKeys(body.RootElement, "users");
        if (!body.RootElement.TryGetProperty("users", out JsonElement users) || users.ValueKind != JsonValueKind.Object)
        {
            throw ApiException.BadJson("users", "must be an object of user id → {presence, status_msg?}.");
        }

        var updates = new Dictionary<string, (PresenceState, string?)>(StringComparer.Ordinal);
        foreach (JsonProperty user in users.EnumerateObject())
        {
            string field = $"users.{user.Name}";
            if (user.Value.ValueKind != JsonValueKind.Object)
            {
                throw ApiException.BadJson(field, "must be an object {presence, status_msg?}.");
            }

            Json.OnlyKeys(user.Value, "presence", "status_msg");
            PresenceState state = FrontendRequests.ParseModulePresence(user.Name, Json.RequiredString(user.Value, "presence"));
            updates[user.Name] = (state, Json.OptionalString(user.Value, "status_msg"));
        }

        await presence.SetPresenceForUsersAsync(updates);
        await Json.WriteEmptyAsync(context.Response);
    }

    private static async Task ExplainAsync(HttpContext context, PresenceService presence)
    {
        PresenceExplanation explanation = await presence.ExplainAsync(context.Request.Query["from"].ToString(), context.Request.Query["to"].ToString());
        await Json.WriteAsync(context.Response, w =>
        {
            w.WriteStartObject();
            w.WriteBoolean("delivered", explanation.Delivered);
            w.WriteStartArray("reasons");
            foreach (PresenceReason reason in explanation.Reasons)
            {
                w.WriteStartObject();
                w.WriteString("kind", reason.Kind);
                if (reason.RoomId is not null)
                {
                    w.WriteString("room_id", reason.RoomId);
                }

                if (reason.Module is not null)
                {
                    w.WriteString("module", reason.Module);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    private static async Task ClusterAsync(HttpContext context, PresenceService presence)
    {
        ClusterResult cluster = await context.RequestServices.GetRequiredService<ClusterView>().GetAsync();
        await Json.WriteAsync(context.Response, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("silos");
            foreach (SiloResult silo in cluster.Silos)
            {
                w.WriteStartObject();
                w.WriteString("name", silo.Name);
                w.WriteString("address", silo.Address);
                w.WriteString("silo_endpoint", silo.SiloEndpoint);
                w.WriteNumber("generation", silo.Generation);
                w.WriteString("status", silo.Status);
                if (silo.Activations is { } count)
                {
                    w.WriteNumber("activations", count);
                }

                if (silo.HttpEndpoint is { } http)
                {
                    w.WriteString("http_endpoint", http);
                }

                w.WriteBoolean("self", silo.Self);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    /// <summary>
    /// What a client needs to compute each user's owner silo exactly as the silo places user grains: the active silos of
    /// this silo's cached membership view, in placement order, and the user grain's type. No peer is asked (unlike
    /// <c>/v1/admin/cluster</c>), so it answers at once even while a peer is unreachable.
    /// </summary>
    private static Task PlacementAsync(HttpContext context, PresenceService presence)
    {
        IServiceProvider services = context.RequestServices;
        ClusterMembershipSnapshot snapshot = services.GetRequiredService<IClusterMembershipService>().CurrentSnapshot;
        IEnumerable<ClusterMember> active = snapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Active)
            .OrderBy(m => Placement.UserOwnerPlacementDirector.PlacementName(m.SiloAddress), StringComparer.Ordinal);
        return Json.WriteAsync(context.Response, w =>
        {
            w.WriteStartObject();
            w.WriteNumber("version", snapshot.Version.Value);
            w.WriteString("user_grain_type", UserPresenceGrain.GrainTypeName);
            w.WriteStartArray("silos");
            foreach (ClusterMember member in active)
            {
                w.WriteStartObject();
                w.WriteString("name", member.Name);
                WriteAddress(w, member.SiloAddress);
                if (services.GetRequiredService<ClusterView>().HttpEndpoint(member.SiloAddress) is { } http)
                {
                    w.WriteString("http_endpoint", http);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    /// <summary>A silo's identity: <c>address</c> (<c>endpoint@generation</c>) and its two parts, which placement hashes.</summary>
    private static void WriteAddress(Utf8JsonWriter w, SiloAddress address)
    {
        w.WriteString("address", Placement.UserOwnerPlacementDirector.PlacementName(address));
        w.WriteString("silo_endpoint", address.Endpoint.ToString());
        w.WriteNumber("generation", address.Generation);
    }
}

/// <summary>The API's log messages (event ids 4000–4099).</summary>
internal static partial class ApiLog
{
    [LoggerMessage(EventId = 4000, EventName = "RequestFailed", Level = LogLevel.Error, Message = "Request {Path} failed")]
    public static partial void LogRequestFailed(this ILogger logger, Exception exception, string path);
}
