using PresenceGrid.Client.Internal;
using PresenceGrid.Grains;
using PresenceGrid.Invocation;
using PresenceGrid.Runtime.GrainDirectory;
using PresenceGrid.Runtime.Membership;

namespace PresenceGrid.Silo.Tests;

/// <summary>The client SDK's owner computation (owner routing) against the runtime's placement (ClusterView).</summary>
public sealed class OwnerPlacementTests
{
    /// <summary>The grain type of a user's presence grain, as the runtime registered it.</summary>
    internal static string UserGrainType
    {
        get
        {
            // The grain assembly's module initializer registers its grain types (a silo runs it when it starts).
            System.Runtime.CompilerServices.RuntimeHelpers.RunModuleConstructor(PresenceGrains.Assembly.ManifestModule.ModuleHandle);
            return GrainTypeManifest.GrainInterface<IUserPresenceGrain>.GrainType;
        }
    }

    [Fact]
    public void The_clients_owner_is_the_runtimes_owner_for_many_users_and_silo_sets()
    {
        string userType = UserGrainType;
        var random = new Random(20_260_611);
        string[] users = [.. Users(random, 150)];
        SiloStatus[] statuses = [SiloStatus.Active, SiloStatus.Active, SiloStatus.Active, SiloStatus.Joining, SiloStatus.Leaving, SiloStatus.Dead];
        int compared = 0;
        for (int set = 0; set < 200; set++)
        {
            var entries = new List<SiloEntry>();
            int count = 1 + random.Next(12);
            for (int i = 0; i < count; i++)
            {
                // Restarts reuse an endpoint with a new generation: "h:1@12" sorts before "h:1@3", as the runtime orders them.
                string endpoint = random.Next(3) switch
                {
                    0 => $"10.{random.Next(256)}.{random.Next(256)}.{random.Next(256)}:{random.Next(1, 65536)}",
                    1 => $"silo-{random.Next(4)}.example:1111{random.Next(2)}",
                    _ => $"[fd00::{random.Next(65536):x}]:{random.Next(1, 65536)}",
                };
                long generation = random.Next(2) == 0 ? random.Next(1, 30) : random.NextInt64(1, long.MaxValue);
                if (entries.Any(e => e.Address == new SiloAddress(endpoint, generation)))
                {
                    continue; // A silo incarnation is unique in the membership table.
                }

                SiloStatus status = i == 0 ? SiloStatus.Active : statuses[random.Next(statuses.Length)];
                entries.Add(new SiloEntry(new SiloAddress(endpoint, generation), $"s{set}-{i}", status, $"http://s{set}-{i}.test:8080"));
            }

            var runtime = new ClusterView(new MembershipView(set, entries));

            // What GET /v1/cluster/placement serves: the active silos; the client must not depend on their order.
            var answer = new PlacementResponse(
                set,
                userType,
                [.. entries.Where(e => e.Status == SiloStatus.Active).OrderBy(_ => random.Next())
                    .Select(e => new PlacementSilo(e.Name, e.Address.Endpoint, e.Address.Generation, e.HttpEndpoint))]);
            PlacementView client = PlacementView.Create(answer);

            Assert.Equal(runtime.Active.Select(a => a.ToString()), client.Silos);
            foreach (string user in users)
            {
                SiloAddress owner = runtime.Owner(new GrainId(userType, user))!;
                int index = client.OwnerIndex(user);
                Assert.Equal(owner.ToString(), client.Silos[index]);
                Assert.Equal(new Uri($"{entries.Single(e => e.Address == owner).HttpEndpoint}/"), client.OwnerOf(user));
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
