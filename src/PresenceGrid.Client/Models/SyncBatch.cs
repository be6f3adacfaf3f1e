namespace PresenceGrid.Client;

/// <summary>One sync answer (or one line of a watch stream).</summary>
/// <param name="Events">The presence events, oldest first.</param>
/// <param name="NextBatch">The token to pass as <c>since</c> to continue after this batch.</param>
public sealed record SyncBatch(IReadOnlyList<PresenceEvent> Events, string NextBatch);
