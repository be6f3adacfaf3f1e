using Microsoft.Extensions.Options;
using Npgsql;
using PresenceGrid.Postgres.Options;

namespace PresenceGrid.Postgres.Tests;

public sealed class PostgresClusteringOptionsValidatorTests
{
    [Fact]
    public void Neither_a_connection_string_nor_a_data_source_is_refused()
    {
        OrleansConfigurationException error = Assert.Throws<OrleansConfigurationException>(() => Validate(new PostgresClusteringOptions()));
        Assert.Contains("exactly one of ConnectionString and DataSource", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Both_a_connection_string_and_a_data_source_are_refused()
    {
        using NpgsqlDataSource dataSource = NpgsqlDataSource.Create("Host=127.0.0.1");
        OrleansConfigurationException error = Assert.Throws<OrleansConfigurationException>(
            () => Validate(new PostgresClusteringOptions { ConnectionString = "Host=127.0.0.1", DataSource = dataSource }));
        Assert.Contains("exactly one of ConnectionString and DataSource", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_malformed_connection_string_is_refused_without_echoing_it()
    {
        OrleansConfigurationException error = Assert.Throws<OrleansConfigurationException>(
            () => Validate(new PostgresClusteringOptions { ConnectionString = "Host=127.0.0.1;Pasword=s3cret" }));
        Assert.Contains("PostgresClusteringOptions.ConnectionString", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_connection_string_alone_is_accepted() =>
        Validate(new PostgresClusteringOptions { ConnectionString = "Host=127.0.0.1;Database=grid;Username=grid" });

    private static void Validate(PostgresClusteringOptions options) =>
        new PostgresClusteringOptionsValidator(new OptionsWrapper<PostgresClusteringOptions>(options)).ValidateConfiguration();
}
