namespace PresenceGrid.Client;

/// <summary>An EDU queued for a remote server, as returned by <c>POST /v1/federation/outgoing/{destination}/take</c>.</summary>
/// <param name="EduType">The EDU type; <c>"m.presence"</c>.</param>
/// <param name="Content">The EDU content.</param>
public sealed record OutgoingEdu(string EduType, PresenceEduContent Content);

/// <summary>The content of an <c>m.presence</c> EDU.</summary>
/// <param name="Push">The presence updates.</param>
public sealed record PresenceEduContent(IReadOnlyList<FederationPresenceUpdate> Push);
