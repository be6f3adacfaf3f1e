using PresenceGrid.Matrix;

namespace PresenceGrid.Presence.Tests;

public sealed class IdentifierTests
{
    [Theory]
    [InlineData("@alice:example.org", "alice", "example.org")]
    [InlineData("@Alice.Smith_=/+-:example.org", "Alice.Smith_=/+-", "example.org")]
    [InlineData("@!\"#$%&'()*+,-./;<=>?[\\]^_`{|}~:x", "!\"#$%&'()*+,-./;<=>?[\\]^_`{|}~", "x")]
    [InlineData("@a:localhost:8448", "a", "localhost:8448")]
    [InlineData("@a:1.2.3.4", "a", "1.2.3.4")]
    [InlineData("@a:[::1]:8448", "a", "[::1]:8448")]
    [InlineData("@a:[2001:db8::ff00:42:8329]", "a", "[2001:db8::ff00:42:8329]")]
    public void UserId_Valid(string text, string localpart, string server)
    {
        Assert.True(UserId.TryParse(text, out var id));
        Assert.Equal(localpart, id.Localpart);
        Assert.Equal(server, id.Server.ToString());
        Assert.Equal(text, id.ToString());
        Assert.Equal(id, UserId.Parse(text));
        Assert.Equal(server, UserId.Validate(text).ToString());
    }

    [Fact]
    public void UserIds_OfOneServer_ShareItsServerName_AndValidationStillAppliesToEveryId()
    {
        var first = UserId.Parse("@first:shared.example.org");
        var second = UserId.Parse("@second:shared.example.org");

        Assert.Same(first.Server, second.Server);
        Assert.Equal(8448, UserId.Parse("@third:shared.example.org:8448").Server.Port);
        Assert.False(UserId.TryParse("@bad local:shared.example.org", out _));
        Assert.False(UserId.TryParse("@fourth:shared.example.org.", out _));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("alice:example.org")]
    [InlineData("@:example.org")]
    [InlineData("@alice")]
    [InlineData("@alice:")]
    [InlineData("@al ice:example.org")]
    [InlineData("@alice\t:example.org")]
    [InlineData("@alice\u0001:example.org")]
    [InlineData("@alic\u00e9:example.org")]
    [InlineData("@alice:exa mple.org")]
    [InlineData("@alice:example..org")]
    [InlineData("@alice:example.org.")]
    [InlineData("@alice:example.org:")]
    [InlineData("@alice:example.org:123456")]
    [InlineData("@alice:example.org:70000")]
    [InlineData("@alice:example.org:80a")]
    [InlineData("@alice:[::1")]
    [InlineData("@alice:[zz::1]")]
    [InlineData("@alice:exa_mple.org")]
    [InlineData("#room:example.org")]
    public void UserId_Invalid(string? text)
    {
        Assert.False(UserId.TryParse(text, out var id));
        Assert.Null(id);
        var e = Assert.Throws<MatrixValidationException>(() => UserId.Validate(text!, "target"));
        Assert.Equal("target", e.Field);
    }

    [Fact]
    public void UserId_Parse_Invalid_ThrowsWithFieldAndErrcode()
    {
        var e = Assert.Throws<MatrixValidationException>(() => UserId.Parse("alice:example.org"));
        Assert.Equal("M_INVALID_PARAM", e.ErrCode);
        Assert.Equal("user_id", e.Field);
        Assert.Contains("user_id", e.Message, StringComparison.Ordinal);

        var custom = Assert.Throws<MatrixValidationException>(() => UserId.Parse("@:x", "sender"));
        Assert.Equal("sender", custom.Field);
    }

    [Fact]
    public void UserId_LengthLimitIs255Bytes()
    {
        const string Suffix = ":example.org";
        var exactly255 = "@" + new string('a', 255 - 1 - Suffix.Length) + Suffix;
        var is256 = "@" + new string('a', 256 - 1 - Suffix.Length) + Suffix;
        Assert.Equal(255, exactly255.Length);

        Assert.True(UserId.TryParse(exactly255, out _));
        Assert.False(UserId.TryParse(is256, out _));
        var e = Assert.Throws<MatrixValidationException>(() => UserId.Parse(is256));
        Assert.Contains("255", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UserId_EqualityIsOrdinal()
    {
        Assert.Equal(UserId.Parse("@a:b"), UserId.Parse("@a:b"));
        Assert.True(UserId.Parse("@a:b") == UserId.Parse("@a:b"));
        Assert.NotEqual(UserId.Parse("@a:b"), UserId.Parse("@A:b"));
        Assert.True(UserId.Parse("@a:b") != UserId.Parse("@a:B"));
        Assert.Equal(UserId.Parse("@a:b").GetHashCode(), UserId.Parse("@a:b").GetHashCode());
    }

    [Theory]
    [InlineData("example.org", "example.org", null)]
    [InlineData("example.org:8448", "example.org", 8448)]
    [InlineData("1.2.3.4:80", "1.2.3.4", 80)]
    [InlineData("[1234:5678::abcd]", "[1234:5678::abcd]", null)]
    [InlineData("[::1]:8448", "[::1]", 8448)]
    [InlineData("[::ffff:1.2.3.4]", "[::ffff:1.2.3.4]", null)]
    [InlineData("localhost", "localhost", null)]
    [InlineData("my-host.example:65535", "my-host.example", 65535)]
    public void ServerName_Valid(string text, string host, int? port)
    {
        Assert.True(ServerName.TryParse(text, out var name));
        Assert.Equal(host, name.Host);
        Assert.Equal(port, name.Port);
        Assert.Equal(text, name.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData(".example.org")]
    [InlineData("example.org.")]
    [InlineData("exa_mple.org")]
    [InlineData("example.org:")]
    [InlineData("example.org:abc")]
    [InlineData("example.org:65536")]
    [InlineData("example.org:+80")]
    [InlineData("[::1")]
    [InlineData("[::1]x")]
    [InlineData("[g::1]")]
    [InlineData("[1.2.3.4]")]
    [InlineData("::1")]
    [InlineData("host name")]
    public void ServerName_Invalid(string text)
    {
        Assert.False(ServerName.TryParse(text, out _));
        var e = Assert.Throws<MatrixValidationException>(() => ServerName.Parse(text));
        Assert.Equal("server_name", e.Field);
    }

    [Fact]
    public void RoomId_Valid()
    {
        Assert.True(RoomId.TryParse("!abc123:example.org", out var room));
        Assert.Equal("abc123", room.OpaqueId);
        Assert.Equal(ServerName.Parse("example.org"), room.Server);
        Assert.Equal("!abc123:example.org", room.ToString());

        Assert.True(RoomId.TryParse("!excluded:test", out _));
        Assert.True(RoomId.TryParse("!a:[::1]:8448", out var v6));
        Assert.Equal("[::1]:8448", v6.Server!.ToString());
    }

    [Fact]
    public void RoomId_RoomVersion12WithoutServer_Accepted()
    {
        Assert.True(RoomId.TryParse("!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM", out var room));
        Assert.Null(room.Server);
        Assert.Equal("31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM", room.OpaqueId);
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc:example.org")]
    [InlineData("@abc:example.org")]
    [InlineData("!")]
    [InlineData("!:example.org")]
    [InlineData("!ab c:example.org")]
    [InlineData("!abc:bad host")]
    [InlineData("!abc:")]
    public void RoomId_Invalid(string text)
    {
        Assert.False(RoomId.TryParse(text, out _));
        var e = Assert.Throws<MatrixValidationException>(() => RoomId.Parse(text));
        Assert.Equal("room_id", e.Field);
        Assert.Equal("M_INVALID_PARAM", e.ErrCode);
    }

    [Fact]
    public void RoomId_LengthLimitIs255Bytes()
    {
        const string Suffix = ":example.org";
        Assert.True(RoomId.TryParse("!" + new string('a', 255 - 1 - Suffix.Length) + Suffix, out _));
        Assert.False(RoomId.TryParse("!" + new string('a', 256 - 1 - Suffix.Length) + Suffix, out _));
    }
}
