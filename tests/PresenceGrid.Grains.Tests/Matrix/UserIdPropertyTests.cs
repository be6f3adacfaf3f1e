using System.Text;
using System.Text.RegularExpressions;
using FsCheck;
using FsCheck.Fluent;
using PresenceGrid.Matrix;

namespace PresenceGrid.Presence.Tests;

/// <summary>
/// <see cref="UserId"/> accepts a string exactly when the Matrix grammar does, on random MXID-like strings (issue 18).
/// The reference, <see cref="MatrixUserIdGrammar"/>, is written from the spec's grammar, not from the implementation.
/// </summary>
public sealed partial class UserIdPropertyTests
{
    private static readonly Config Runs = Config.QuickThrowOnFailure.WithMaxTest(3000).WithReplay(0x5EED_0018UL, 0x9E37_79B9_7F4A_7C15UL);

    [Fact]
    public void UserId_accepts_exactly_what_the_grammar_accepts()
    {
        Prop.ForAll(MxidLike.ToArbitrary(), text =>
        {
            bool expected = MatrixUserIdGrammar.IsUserId(text);
            bool parsed = UserId.TryParse(text, out UserId? id);
            Assert.True(expected == parsed, $"grammar says {expected}, UserId.TryParse says {parsed}: {Describe(text)}");
            if (parsed)
            {
                Assert.Equal(text, id!.ToString());
                Assert.Equal(text, $"@{id.Localpart}:{id.Server}");
                Assert.Equal(id.Server, UserId.Validate(text));
            }
            else
            {
                Assert.Throws<MatrixValidationException>(() => UserId.Validate(text));
            }
        }).Check(Runs);
    }

    [Fact]
    public void The_generator_reaches_both_sides_of_the_grammar()
    {
        // A property that only ever sees invalid (or only valid) ids proves little: both must be common.
        string[] sample = MxidLike.Sample(3000, new Rnd(0x5EED_0018UL, 0x9E37_79B9_7F4A_7C15UL), 40);
        int valid = sample.Count(MatrixUserIdGrammar.IsUserId);
        Assert.InRange(valid, sample.Length / 10, sample.Length * 9 / 10);
        Assert.Contains(sample, s => MatrixUserIdGrammar.IsUserId(s) && s.Contains('['));
        Assert.Contains(sample, s => MatrixUserIdGrammar.IsUserId(s) && s.Length is > 245 and <= 255);
        Assert.Contains(sample, s => !MatrixUserIdGrammar.IsUserId(s) && MatrixUserIdGrammar.IsUserId(s[..^1]));
    }

    /// <summary>Edges of the grammar, as examples; the first two are what the property found (UserId accepted them).</summary>
    [Theory]
    [InlineData("@`b&]:[::136.148.101.01]:23363", false)]
    [InlineData("@a:[::ffff:1.2.3.04]", false)]
    [InlineData("@a:[::ffff:1.2.3.0]", true)]
    [InlineData("@a:[2001:0db8::0001]", true)]
    [InlineData("@a:[::1.2.3.4]", true)]
    [InlineData("@a:[::ffff:255.255.255.255]", true)]
    [InlineData("@a:[1:2:3:4:5:6:7:8]", true)]
    [InlineData("@a:[1:2:3:4:5:6:7::]", true)]
    [InlineData("@a:[::2:3:4:5:6:7:8]", true)]
    [InlineData("@a:[1:2:3:4:5:6:1.2.3.4]", true)]
    [InlineData("@a:[1:2:3:4:5:6:7:1.2.3.4]", false)]
    [InlineData("@a:[::1.2.3.256]", false)]
    [InlineData("@a:[::1.2.3]", false)]
    [InlineData("@a:[12345::]", false)]
    [InlineData("@a:[1:2:3:4:5:6:7]", false)]
    [InlineData("@a:[1::2::3]", false)]
    [InlineData("@a:x:65535", true)]
    [InlineData("@a:x:65536", false)]
    [InlineData("@a:x:00080", true)]
    [InlineData("@a:x:", false)]
    [InlineData("@a:x.", false)]
    [InlineData("@a:x..y", false)]
    [InlineData("@a:1.2.3.999", true)]
    [InlineData("@a;b:x", true)]
    [InlineData("@a b:x", false)]
    [InlineData("@a\u007fb:x", false)]
    [InlineData("@a:x\n", false)]
    [InlineData("@a:x:1\n", false)]
    [InlineData("@a:x:\u0661", false)]
    public void Examples(string text, bool valid)
    {
        Assert.Equal(valid, MatrixUserIdGrammar.IsUserId(text));
        Assert.Equal(valid, UserId.TryParse(text, out _));
    }

    private static string Describe(string text) =>
        $"\"{text}\" (length {text.Length}, {Encoding.UTF8.GetByteCount(text)} UTF-8 bytes; escaped: {string.Concat(text.Select(c => c is >= ' ' and <= '~' ? c.ToString() : $"\\u{(int)c:x4}"))})";

    // ---- The generator: strings shaped like MXIDs, near the grammar's edges. ----

    private static Gen<string> Chars(string alphabet, int min, int max) =>
        Gen.Choose(min, max).SelectMany(n => Gen.Elements(alphabet.ToCharArray()).ArrayOf(n)).Select(cs => new string(cs));

    private const string LocalpartChars = "abcxyz019._=-/+ABCZ!\"#$%&'()*,;<>?@[\\]^`{|}~";
    private const string OddChars = ": \t\n\0\u007f\u0080é\u00a0\u2028\ud800\udc00\uff1a\u0661";

    private static readonly Gen<string> Localpart = Gen.Frequency(
        (8, Chars(LocalpartChars, 1, 12)),
        (1, Gen.Constant(string.Empty)),
        (2, Chars(LocalpartChars, 0, 6).Zip(Chars(OddChars, 1, 1), (a, b) => a + b).Zip(Chars(LocalpartChars, 0, 6), (a, b) => a + b)));

    private static readonly Gen<string> Label = Gen.Frequency(
        (10, Chars("abcxyzABC0189-", 1, 8)),
        (1, Gen.Constant(string.Empty)),
        (1, Chars("abc_é*!@ ", 1, 3)));

    private static readonly Gen<string> DnsName = Label.ListOf().Select(labels => labels.Count == 0 ? "x" : string.Join('.', labels))
        .Zip(Gen.Frequency((12, Gen.Constant(string.Empty)), (1, Gen.Constant(".")), (1, Gen.Constant("-"))), (name, tail) => name + tail);

    private static readonly Gen<string> Octet = Gen.Frequency(
        (6, Gen.Choose(0, 255).Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture))),
        (1, Gen.Elements("256", "999", "01", "00", "1234", string.Empty)));

    private static readonly Gen<string> Ipv4 = Octet.ListOf().Resize(5).Select(octets => string.Join('.', octets))
        .Or(Octet.ArrayOf(4).Select(octets => string.Join('.', octets)));

    private static readonly Gen<string> Hex16 = Gen.Frequency(
        (8, Chars("0123456789abcdefABCDEF", 1, 4)),
        (1, Chars("0123456789abcdef", 5, 5)),
        (1, Gen.Elements("g", "0x1", string.Empty)));

    private static readonly Gen<string> Ipv6 = Gen.Choose(0, 9).SelectMany(groups =>
        Hex16.ArrayOf(groups).SelectMany(parts => Gen.Choose(-1, groups).SelectMany(gap => Gen.Frequency((5, Gen.Constant(string.Empty)), (2, Ipv4)).Select(v4 =>
        {
            var text = new StringBuilder();
            for (int i = 0; i < parts.Length; i++)
            {
                text.Append(i == gap ? "::" : i > 0 ? ":" : string.Empty).Append(parts[i]);
            }

            if (gap == parts.Length)
            {
                text.Append("::");
            }

            if (v4.Length > 0)
            {
                text.Append(text.Length == 0 || text[^1] == ':' ? string.Empty : ":").Append(v4);
            }

            return text.ToString();
        }))));

    private static readonly Gen<string> Host = Gen.Frequency(
        (5, DnsName),
        (2, Ipv4),
        (4, Ipv6.Select(a => $"[{a}]")),
        (1, Ipv6.Select(a => $"[{a}")),
        (1, Ipv6));

    private static readonly Gen<string> Port = Gen.Frequency(
        (6, Gen.Constant(string.Empty)),
        (3, Gen.Choose(0, 70000).Select(n => ":" + n.ToString(System.Globalization.CultureInfo.InvariantCulture))),
        (1, Gen.Elements(":", ":00080", ":123456", ":-1", ":8a", ":\u0661", ":65535", ":65536", "::80")));

    private static readonly Gen<string> Shaped = Gen.Frequency(
            (12, Gen.Constant("@")),
            (1, Gen.Elements(string.Empty, "!", "#", "@@", " @")))
        .Zip(Localpart, (sigil, local) => sigil + local)
        .Zip(Gen.Frequency((12, Gen.Constant(":")), (1, Gen.Elements(string.Empty, "::", ";"))), (head, colon) => head + colon)
        .Zip(Host, (head, host) => head + host)
        .Zip(Port, (head, port) => head + port)
        .Zip(Gen.Frequency((20, Gen.Constant(string.Empty)), (1, Gen.Elements("\n", " ", "\0", "é"))), (id, tail) => id + tail);

    /// <summary>Pads the localpart so that the id lands around the 255 limit.</summary>
    private static readonly Gen<string> NearTheLimit = Shaped.Where(s => s.Length > 2 && s.Length < 240).SelectMany(s =>
        Gen.Choose(250, 258).Select(total => s[..2] + new string('a', total - s.Length) + s[2..]));

    private static readonly Gen<string> MxidLike = Gen.Frequency(
        (12, Shaped),
        (3, NearTheLimit),
        (1, Chars(LocalpartChars + OddChars + "[].", 0, 20)));
}

/// <summary>
/// The Matrix user-id grammar (spec, appendices, "User Identifiers" and "Server Name"), as a reference for tests:
/// <code>
/// user_id        = "@" localpart ":" server_name            ; at most 255 bytes in all
/// localpart      = 1*( %x21-39 / %x3B-7E )                  ; historical ids: printable ASCII but ":"
/// server_name    = hostname [ ":" port ]
/// port           = 1*5DIGIT
/// hostname       = IPv4address / "[" IPv6address "]" / dns-name
/// IPv4address    = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT
/// IPv6address    = 2*45IPv6char
/// IPv6char       = DIGIT / %x41-46 / %x61-66 / ":" / "."
/// dns-name       = 1*255dns-char
/// dns-char       = DIGIT / ALPHA / "-" / "."
/// </code>
/// with the three restrictions PresenceGrid applies as Synapse does (documented on <see cref="ServerName"/>):
/// a dns-name has no empty label (Synapse's <c>VALID_HOST_REGEX</c>; an IPv4address is such a name); the port is at
/// most 65535; an IPv6address is a real address in RFC 4291 text form (Synapse parses it with <c>ipaddress.IPv6Address</c>),
/// written here with RFC 3986's <c>IPv6address</c> rule.
/// </summary>
internal static partial class MatrixUserIdGrammar
{
    public static bool IsUserId(string text)
    {
        // Every character the grammar allows is ASCII, so bytes and characters count alike for a valid id.
        if (text.Length > 255)
        {
            return false;
        }

        Match match = UserIdRegex().Match(text);
        if (!match.Success)
        {
            return false;
        }

        if (match.Groups["ipv6"].Success && !Rfc3986Ipv6().IsMatch(match.Groups["ipv6"].Value))
        {
            return false;
        }

        return !match.Groups["port"].Success || int.Parse(match.Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture) <= 65535;
    }

    [GeneratedRegex(@"\A@[\x21-\x39\x3B-\x7E]+:(?:[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*|\[(?<ipv6>[0-9A-Fa-f:.]{2,45})\])(?::(?<port>[0-9]{1,5}))?\z", RegexOptions.CultureInvariant)]
    private static partial Regex UserIdRegex();

    private const string H16 = "[0-9A-Fa-f]{1,4}";
    private const string DecOctet = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])";
    private const string Ls32 = "(?:" + H16 + ":" + H16 + "|" + DecOctet + @"\." + DecOctet + @"\." + DecOctet + @"\." + DecOctet + ")";

    // RFC 3986, 3.2.2: IPv6address, its nine alternatives as written there.
    [GeneratedRegex(
        @"\A(?:(?:" + H16 + ":){6}" + Ls32
        + "|::(?:" + H16 + ":){5}" + Ls32
        + "|(?:" + H16 + ")?::(?:" + H16 + ":){4}" + Ls32
        + "|(?:(?:" + H16 + ":){0,1}" + H16 + ")?::(?:" + H16 + ":){3}" + Ls32
        + "|(?:(?:" + H16 + ":){0,2}" + H16 + ")?::(?:" + H16 + ":){2}" + Ls32
        + "|(?:(?:" + H16 + ":){0,3}" + H16 + ")?::" + H16 + ":" + Ls32
        + "|(?:(?:" + H16 + ":){0,4}" + H16 + ")?::" + Ls32
        + "|(?:(?:" + H16 + ":){0,5}" + H16 + ")?::" + H16
        + "|(?:(?:" + H16 + ":){0,6}" + H16 + ")?::"
        + @")\z",
        RegexOptions.CultureInvariant)]
    private static partial Regex Rfc3986Ipv6();
}
