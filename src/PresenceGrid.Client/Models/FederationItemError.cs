namespace PresenceGrid.Client;

/// <summary>A push item that the server rejected in <c>POST /v1/federation/incoming</c>; the other items were applied.</summary>
/// <param name="Index">The zero-based index of the rejected item in the <c>push</c> list.</param>
/// <param name="ErrCode">The Matrix error code, for example <c>M_INVALID_PARAM</c>.</param>
/// <param name="Error">A human-readable description.</param>
public sealed record FederationItemError(
    int Index,
    [property: System.Text.Json.Serialization.JsonPropertyName("errcode")] string ErrCode,
    string Error);
