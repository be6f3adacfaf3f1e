namespace PresenceGrid.Grains.Contracts;

/// <summary>The content of an <c>m.presence</c> event, with the same fields present as in the HTTP API's JSON.</summary>
/// <param name="Presence">The presence's wire string.</param>
/// <param name="LastActiveAgo">Milliseconds since the last activity; null when unknown.</param>
/// <param name="StatusMsg">The status message; null when none.</param>
/// <param name="CurrentlyActive">Whether the user is currently active; null unless online.</param>
[GenerateSerializer, Immutable]
[Alias("presencegrid.PresenceContentResult")]
public sealed record PresenceContentResult(
    [property: Id(0)] string Presence,
    [property: Id(1)] long? LastActiveAgo,
    [property: Id(2)] string? StatusMsg,
    [property: Id(3)] bool? CurrentlyActive);

/// <summary>A presence event of a sync batch.</summary>
/// <param name="Sender">The user whose presence it is.</param>
/// <param name="Content">The content.</param>
[GenerateSerializer, Immutable]
[Alias("presencegrid.PresenceEventResult")]
public sealed record PresenceEventResult(
    [property: Id(0)] string Sender,
    [property: Id(1)] PresenceContentResult Content);

/// <summary>A sync batch.</summary>
/// <param name="Events">The events, oldest first.</param>
/// <param name="NextBatch">The token to continue after this batch.</param>
[GenerateSerializer, Immutable]
[Alias("presencegrid.SyncResult")]
public sealed record SyncResult(
    [property: Id(0)] PresenceEventResult[] Events,
    [property: Id(1)] string NextBatch);

/// <summary>A rejected item of an incoming EDU.</summary>
/// <param name="Index">Its index in <c>push</c>.</param>
/// <param name="ErrCode">The Matrix error code.</param>
/// <param name="Error">What is wrong, naming the field.</param>
[GenerateSerializer, Immutable]
[Alias("presencegrid.FederationItemErrorResult")]
public sealed record FederationItemErrorResult(
    [property: Id(0)] int Index,
    [property: Id(1)] string ErrCode,
    [property: Id(2)] string Error);

/// <summary>An <c>m.presence</c> EDU queued for a remote server.</summary>
/// <param name="Push">Its items, each with its user.</param>
[GenerateSerializer, Immutable]
[Alias("presencegrid.OutgoingEduResult")]
public sealed record OutgoingEduResult([property: Id(0)] FederationPresenceItem[] Push);

/// <summary>Why one user's presence does or does not reach another.</summary>
/// <param name="Delivered">Whether it is delivered.</param>
/// <param name="Reasons">The reasons; empty when not delivered.</param>
[GenerateSerializer, Immutable]
[Alias("presencegrid.ExplanationResult")]
public sealed record ExplanationResult(
    [property: Id(0)] bool Delivered,
    [property: Id(1)] ExplainReasonResult[] Reasons);

/// <summary>One reason for delivery.</summary>
/// <param name="Kind"><c>self</c>, <c>room</c>, <c>module</c> or <c>all_users</c>.</param>
/// <param name="RoomId">For <c>room</c>: the shared room.</param>
/// <param name="Module">For <c>module</c> and <c>all_users</c>: the module.</param>
[GenerateSerializer, Immutable]
[Alias("presencegrid.ExplainReasonResult")]
public sealed record ExplainReasonResult(
    [property: Id(0)] string Kind,
    [property: Id(1)] string? RoomId,
    [property: Id(2)] string? Module);

/// <summary>The cluster membership as the answering silo sees it.</summary>
/// <param name="Silos">The silos, oldest generation first.</param>
[GenerateSerializer, Immutable]
[Alias("presencegrid.ClusterResult")]
public sealed record ClusterResult([property: Id(0)] SiloResult[] Silos);

/// <summary>One silo of the cluster.</summary>
/// <param name="Name">The silo name.</param>
/// <param name="Address">The silo address, <c>endpoint@generation</c>.</param>
/// <param name="SiloEndpoint">The silo-to-silo endpoint.</param>
/// <param name="Generation">The silo's generation.</param>
/// <param name="Status">The membership status, lower case (<c>active</c>, …).</param>
/// <param name="Activations">The silo's grain activations, when it answered in time.</param>
/// <param name="HttpEndpoint">Where the silo serves the HTTP API, when it published it.</param>
/// <param name="Self">True for the answering silo.</param>
[GenerateSerializer, Immutable]
[Alias("presencegrid.SiloResult")]
public sealed record SiloResult(
    [property: Id(0)] string Name,
    [property: Id(1)] string Address,
    [property: Id(2)] string SiloEndpoint,
    [property: Id(3)] long Generation,
    [property: Id(4)] string Status,
    [property: Id(5)] long? Activations,
    [property: Id(6)] string? HttpEndpoint,
    [property: Id(7)] bool Self);
