using System.Text.Json.Serialization;

// The HTTP benchmark's baseline (scripts/put-vs-kestrel.sh, docs/benchmarks.md): the silo's
// `PUT /v1/presence/{user}/status` with nothing behind it. Kestrel, routing and a source-generated System.Text.Json
// parse of the same body, answering {} with a Content-Length as the silo does (so HTTP/1.0 keep-alive clients such as
// `ab -k` keep their connections); run with the same client as the silo to see what one HTTP request costs here.
WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.Services.ConfigureHttpJsonOptions(options => options.SerializerOptions.TypeInfoResolverChain.Insert(0, BaselineJson.Default));

byte[] empty = "{}"u8.ToArray();
WebApplication app = builder.Build();
app.MapPut("/v1/presence/{user}/status", (string user, StatusBody body) =>
    string.IsNullOrEmpty(user) || body.Presence is null
        ? Results.BadRequest()
        : Results.Bytes(empty, "application/json"));
app.Run();

/// <summary>The body of <c>PUT /v1/presence/{user}/status</c>, as the silo reads it.</summary>
internal sealed record StatusBody(
    [property: JsonPropertyName("presence")] string? Presence,
    [property: JsonPropertyName("status_msg")] string? StatusMsg);

/// <summary>Source-generated JSON for the body.</summary>
[JsonSerializable(typeof(StatusBody))]
internal sealed partial class BaselineJson : JsonSerializerContext;
