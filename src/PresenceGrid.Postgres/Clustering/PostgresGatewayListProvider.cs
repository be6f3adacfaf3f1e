using Orleans.Messaging;
using Orleans.Runtime.Membership;

namespace PresenceGrid.Postgres.Clustering;

/// <summary>
/// A client's gateway list: Orleans' <see cref="AdoNetGatewayListProvider"/>, with the schema
/// applied before it first reads the database.
/// </summary>
/// <remarks>
/// A client cannot use a lifecycle stage as the silo does: <c>ClusterClient</c> initializes its
/// gateway list provider while it starts its runtime, before its own lifecycle runs. Wrapping the
/// provider puts the schema in place exactly before that first read (and again on each of the
/// client's connection retries until one succeeds).
/// </remarks>
internal sealed class PostgresGatewayListProvider(AdoNetGatewayListProvider inner, PostgresSchemaApplier applier) : IGatewayListProvider
{
    /// <inheritdoc />
    public TimeSpan MaxStaleness => inner.MaxStaleness;

    /// <inheritdoc />
    public bool IsUpdatable => inner.IsUpdatable;

    /// <inheritdoc />
    public Task InitializeGatewayListProvider() => InitializeGatewayListProviderAsync(CancellationToken.None);

    /// <inheritdoc />
    public async Task InitializeGatewayListProviderAsync(CancellationToken cancellationToken)
    {
        await applier.ApplyAsync(cancellationToken).ConfigureAwait(false);
        await inner.InitializeGatewayListProviderAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<IList<Uri>> GetGateways() => inner.GetGatewaysAsync(CancellationToken.None);

    /// <inheritdoc />
    public Task<IList<Uri>> GetGatewaysAsync(CancellationToken cancellationToken) => inner.GetGatewaysAsync(cancellationToken);
}
