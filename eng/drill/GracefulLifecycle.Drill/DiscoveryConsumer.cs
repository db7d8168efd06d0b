using System.Globalization;
using System.Net.Http.Json;
using System.Reflection;

namespace GracefulLifecycle.Drill;

/// <summary>Who calls the replicas in the discovery drill: a service with a resolved <c>HttpClient</c>, or the YARP gateway.</summary>
internal enum DiscoveryCaller
{
    /// <summary>
    /// The drill's consumer in its <c>resolver</c> mode: an <c>HttpClient</c> with <c>.AddServiceDiscovery()</c> calls
    /// <c>http://drill</c>, resolved by Microsoft.Extensions.ServiceDiscovery through the registry's endpoint provider.
    /// </summary>
    Resolver,

    /// <summary>
    /// The gateway sample (samples/GracefulLifecycle.Gateway): YARP, its destinations resolved through the same provider,
    /// health-checked on <c>/ifready</c>.
    /// </summary>
    Gateway,
}

/// <summary>
/// The consumer of the discovery drill (<see cref="DiscoveryScenarios"/>): a real Microsoft.Extensions.ServiceDiscovery
/// resolver over the endpoint provider of etcd or Consul, in its own process, between wrk and the replicas.
/// </summary>
/// <param name="Caller">The consumer process: the resolved <c>HttpClient</c> or the gateway.</param>
/// <param name="Registry"><see cref="DrillScenario.Etcd"/> (the drill starts a real etcd) or <see cref="DrillScenario.Consul"/>.</param>
internal sealed record DiscoveryConsumer(DiscoveryCaller Caller, DrillScenario Registry)
{
    /// <summary>The name the replicas register under and the consumers resolve (<c>http://drill</c>).</summary>
    public const string ServiceName = "drill";

    /// <summary>Gets the consumer's app: the drill's consumer, copied next to the drill, or the gateway in its own build output.</summary>
    public string App(string drillDirectory) => Caller == DiscoveryCaller.Resolver
        ? Path.Combine(drillDirectory, "GracefulLifecycle.Drill.Consumer.dll")
        : GatewayApp;

    /// <summary>
    /// Gets the consumer process's settings (environment variables): the registry section the replicas register with,
    /// read by the same endpoint provider, and for the gateway its one cluster pointed at the service.
    /// </summary>
    /// <param name="registry">etcd's client URL, or the Consul agent's address.</param>
    public Dictionary<string, string> ProcessSettings(Uri registry)
    {
        var values = new Dictionary<string, string>
        {
            ["Logging__LogLevel__Default"] = "Warning",
        };
        if (Registry == DrillScenario.Etcd)
        {
            values["GracefulLifecycle__Etcd__Endpoints"] = registry.ToString();
        }
        else
        {
            values["GracefulLifecycle__Consul__Address"] = registry.ToString();
        }

        if (Caller == DiscoveryCaller.Resolver)
        {
            values["Consumer__Registry"] = "resolver";
            values["Consumer__Service"] = $"http://{ServiceName}";
        }
        else
        {
            // The gateway runs from its own build output, with its own appsettings.json (routes, the /ifready check).
            values["ASPNETCORE_CONTENTROOT"] = Path.GetDirectoryName(GatewayApp)!;
            values["ReverseProxy__Clusters__catalog__Destinations__catalog__Address"] = $"http://{ServiceName}";
            values["Gateway__ShowDestinations"] = "true";
        }

        return values;
    }

    /// <summary>
    /// Tells when the consumer stopped routing to a port: the resolver consumer records the moment its resolver's list
    /// dropped it (<c>GET /removed/{port}</c>); the gateway is asked which destinations YARP still has available.
    /// </summary>
    public Func<int, Task<long?>> Removals(Uri consumer)
    {
        var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        if (Caller == DiscoveryCaller.Resolver)
        {
            return async port =>
            {
                using var response = await client.GetAsync(new Uri(consumer, $"removed/{port}"));
                return response.StatusCode == System.Net.HttpStatusCode.NotFound
                    ? null
                    : await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<long>();
            };
        }

        return async port =>
        {
            var clusters = await client.GetFromJsonAsync<GatewayCluster[]>(new Uri(consumer, "gateway/destinations")) ?? [];
            var routed = clusters.SelectMany(c => c.Destinations).Any(d => d.Available && new Uri(d.Address).Port == port);
            return routed ? null : System.Diagnostics.Stopwatch.GetTimestamp();
        };
    }

    /// <summary>Gets a short name for the result line.</summary>
    public string Label => string.Create(
        CultureInfo.InvariantCulture,
        $"{(Caller == DiscoveryCaller.Resolver ? "discovery" : "gateway")}-{Registry.ToString().ToLowerInvariant()}");

    /// <summary>
    /// The gateway's dll in its own build output: the drill builds it (a project reference without its assembly) but
    /// does not copy it, as its appsettings.json would take the place of the sample's next to the drill.
    /// </summary>
    private static string GatewayApp =>
        typeof(DiscoveryConsumer).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "GatewayApp").Value!;

    private sealed record GatewayCluster(string Cluster, GatewayDestination[] Destinations);

    private sealed record GatewayDestination(string Id, string Address, string Active, string Passive, bool Available);
}
