using PresenceGrid.Postgres.Options;

namespace PresenceGrid.Postgres.Tests;

public sealed class PostgresGrainStorageOptionsValidatorTests
{
    private const string Valid = "Host=127.0.0.1;Database=grid;Username=grid";

    [Fact]
    public void A_missing_connection_string_is_refused_naming_the_storage()
    {
        OrleansConfigurationException error = Assert.Throws<OrleansConfigurationException>(() => Validate(new PostgresGrainStorageOptions()));
        Assert.Contains("grain storage 'pg'", error.Message, StringComparison.Ordinal);
        Assert.Contains("ConnectionString is required", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_malformed_connection_string_is_refused_without_echoing_it()
    {
        OrleansConfigurationException error = Assert.Throws<OrleansConfigurationException>(
            () => Validate(new PostgresGrainStorageOptions { ConnectionString = "Host=127.0.0.1;Pasword=s3cret" }));
        Assert.Contains("ConnectionString: not an Npgsql connection string", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1001)]
    public void A_group_commit_window_out_of_range_is_refused(int milliseconds)
    {
        OrleansConfigurationException error = Assert.Throws<OrleansConfigurationException>(
            () => Validate(new PostgresGrainStorageOptions { ConnectionString = Valid, GroupCommit = TimeSpan.FromMilliseconds(milliseconds) }));
        Assert.Contains("GroupCommit must be between 0 and 1000 ms", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65)]
    public void A_committer_count_out_of_range_is_refused(int committers)
    {
        OrleansConfigurationException error = Assert.Throws<OrleansConfigurationException>(
            () => Validate(new PostgresGrainStorageOptions { ConnectionString = Valid, Committers = committers }));
        Assert.Contains($"Committers must be between 1 and 64, not {committers}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_defaults_with_a_connection_string_are_accepted()
    {
        var options = new PostgresGrainStorageOptions { ConnectionString = Valid };
        Validate(options);
        Assert.Equal(TimeSpan.FromMilliseconds(2), options.GroupCommit);
        Assert.Equal(2, options.Committers);
    }

    private static void Validate(PostgresGrainStorageOptions options) =>
        new PostgresGrainStorageOptionsValidator(options, "pg").ValidateConfiguration();
}
