using System.Net;
using PresenceGrid.Client.Internal;
using PresenceGrid.Grains;
using PresenceGrid.Placement;

namespace PresenceGrid.Silo.Tests;

/// <summary>The client SDK's owner computation (owner routing) against the silo's placement director (UserOwnerPlacement).</summary>
public sealed class OwnerPlacementTests
{
    /// <summary>The grain type of a user's presence grain.</summary>
    internal static string UserGrainType => UserPresenceGrain.GrainTypeName;

    [Fact]
    public void The_clients_owner_is_the_silos_placement_for_many_users_and_silo_sets()
    {
        var random = new Random(20_260_611);
        string[] users = [.. Users(random, 150)];
        int compared = 0;
        for (int set = 0; set < 200; set++)
        {
            var silos = new List<(SiloAddress Address, string Name, string Http)>();
            int count = 1 + random.Next(12);
            for (int i = 0; i < count; i++)
            {
                // Restarts reuse an endpoint with a new generation.
                IPEndPoint endpoint = random.Next(2) == 0
                    ? new IPEndPoint(new IPAddress([10, (byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)]), random.Next(1, 65536))
                    : new IPEndPoint(IPAddress.Parse($"fd00::{random.Next(65536):x}"), random.Next(1, 65536));
                int generation = random.Next(2) == 0 ? random.Next(1, 30) : random.Next(1, int.MaxValue);
                var address = SiloAddress.New(endpoint, generation);
                if (silos.Any(s => s.Address.Equals(address)))
                {
                    continue; // A silo incarnation is unique in the membership table.
                }

                silos.Add((address, $"s{set}-{i}", $"http://s{set}-{i}.test:8080"));
            }

            // What GET /v1/cluster/placement serves: the active silos; the client must not depend on their order.
            var answer = new PlacementResponse(
                set,
                UserGrainType,
                [.. silos.OrderBy(_ => random.Next()).Select(s => new PlacementSilo(s.Name, s.Address.Endpoint.ToString(), s.Address.Generation, s.Http))]);
            PlacementView client = PlacementView.Create(answer);
            SiloAddress[] active = [.. silos.Select(s => s.Address)];

            Assert.Equal(active.Select(UserOwnerPlacementDirector.PlacementName).Order(StringComparer.Ordinal), client.Silos);
            foreach (string user in users)
            {
                SiloAddress owner = UserOwnerPlacementDirector.Owner(GrainId.Create(UserGrainType, user), active);
                int index = client.OwnerIndex(user);
                Assert.Equal(UserOwnerPlacementDirector.PlacementName(owner), client.Silos[index]);
                Assert.Equal(new Uri($"{silos.Single(s => s.Address.Equals(owner)).Http}/"), client.OwnerOf(user));
                compared++;
            }
        }

        Assert.Equal(200 * users.Length, compared);
    }

    /// <summary>Matrix-shaped ids, odd but legal localparts, non-ASCII text and ids too long for the hash's stack buffer.</summary>
    private static IEnumerable<string> Users(Random random, int count)
    {
        const string printable = "!\"#$%&'()*+,-./0123456789;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";
        for (int i = 0; i < count; i++)
        {
            yield return (i % 5) switch
            {
                0 => $"@user{i}:example.org",
                1 => $"@{new string([.. Enumerable.Range(0, 1 + random.Next(40)).Select(_ => printable[random.Next(printable.Length)])])}:hs{i}.test:8448",
                2 => $"@ünïcødé{i}:例え{i}.jp",
                3 => $"@{new string('x', 200 + random.Next(100))}{i}:long.example",
                _ => $"@{random.NextInt64():x16}:matrix.test",
            };
        }
    }
}
