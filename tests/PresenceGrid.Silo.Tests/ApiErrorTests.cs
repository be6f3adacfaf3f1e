using Microsoft.AspNetCore.Http;
using PresenceGrid.Matrix;
using PresenceGrid.Silo.Api;

namespace PresenceGrid.Silo.Tests;

/// <summary>How the API turns the grid's exceptions into statuses and errcodes.</summary>
public sealed class ApiErrorTests
{
    [Fact]
    public async Task An_unavailable_silo_is_a_503_to_retry_with_Retry_After_and_a_message_that_says_why()
    {
        ApiException error = ApiException.From(new SiloUnavailableException("Silo 127.0.0.1:1@2 is dead; Request #1 was not sent."));
        Assert.Equal(503, error.Status);
        Assert.Equal(ApiException.Unavailable, error.ErrCode);

        var context = new DefaultHttpContext();
        context.Response.Body = new MemoryStream();
        await error.WriteAsync(context.Response);
        Assert.Equal(503, context.Response.StatusCode);
        Assert.Equal("1", context.Response.Headers.RetryAfter.ToString());
        string body = System.Text.Encoding.UTF8.GetString(((MemoryStream)context.Response.Body).ToArray());
        Assert.Contains("\"errcode\":\"IO.PRESENCEGRID.UNAVAILABLE\"", body);
        Assert.Contains("was not sent", body);
    }

    [Fact]
    public void Orleans_timeouts_and_an_unreachable_database_are_503s_to_retry_without_the_database_error()
    {
        Assert.Equal(503, ApiException.From(new TimeoutException("Response did not arrive on time in 00:00:30")).Status);
        ApiException database = ApiException.From(new Npgsql.NpgsqlException("Failed to connect to 127.0.0.1:5432 with password=hunter2"));
        Assert.Equal((503, ApiException.Unavailable), (database.Status, database.ErrCode));
        Assert.DoesNotContain("hunter2", database.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unexpected_exception_stays_a_500_without_its_details()
    {
        ApiException error = ApiException.From(new InvalidOperationException("secret detail"));
        Assert.Equal(500, error.Status);
        Assert.Equal(MatrixErrorCodes.Unknown, error.ErrCode);
        Assert.DoesNotContain("secret detail", error.Message);
    }
}
