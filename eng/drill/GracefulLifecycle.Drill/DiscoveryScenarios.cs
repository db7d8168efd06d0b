namespace GracefulLifecycle.Drill;

/// <summary>
/// The discovery drill (issue 21): replicas registered in etcd or with a Consul agent, called through the real
/// Microsoft.Extensions.ServiceDiscovery resolver and the adapters' endpoint providers, which watch etcd and long-poll
/// Consul (blocking queries), so a replica that leaves its registry leaves the callers' lists within tens of
/// milliseconds. The replicas declare those callers: <c>ConsumerRefreshInterval</c> 0 and no load-balancer cache, so
/// the delay they serve is the propagation margin alone, with a shutdown delay of their own of 0.2 s.
/// </summary>
/// <remarks>
/// Two callers: <c>discovery-*</c> is a service whose <c>HttpClient</c> resolves <c>http://drill</c>
/// (<c>.AddServiceDiscovery()</c>, the resolver's round-robin), and <c>gateway-*</c> the YARP gateway sample, which
/// also checks each replica's <c>/ifready</c> every second. wrk loads the caller; a call it fails is answered 502 and
/// counted, and nothing retries.
/// </remarks>
internal static class DiscoveryScenarios
{
    /// <summary>The shutdown delay the replicas configure: below the margin, so the margin is what they wait.</summary>
    public static readonly TimeSpan ShutdownDelay = TimeSpan.FromSeconds(0.2);

    /// <summary>How long an old replica may take from SIGTERM to exit: the 1 s margin, the drain, and the process's exit.</summary>
    public static readonly TimeSpan ExitBound = TimeSpan.FromSeconds(2.5);

    /// <summary>Gets the scenario names the drill takes after <c>--scenario</c>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["discovery-etcd", "discovery-consul", "gateway", "gateway-consul"];

    /// <summary>The run of one scenario; Consul's need the agent's address (<c>--registry-url</c>).</summary>
    public static DrillSettings Create(string name, int rollouts, Uri? consulAgent = null) => name switch
    {
        "discovery-etcd" => Etcd(DiscoveryCaller.Resolver, rollouts),
        "gateway" or "gateway-etcd" => Etcd(DiscoveryCaller.Gateway, rollouts),
        "discovery-consul" => Consul(DiscoveryCaller.Resolver, rollouts, consulAgent),
        "gateway-consul" => Consul(DiscoveryCaller.Gateway, rollouts, consulAgent),
        _ => throw new ArgumentException($"Unknown discovery scenario '{name}': use one of {string.Join(", ", Names)}."),
    };

    /// <summary>The replicas in the real etcd the drill starts; the callers watch the service prefix.</summary>
    public static DrillSettings Etcd(DiscoveryCaller caller, int rollouts)
    {
        var discovery = new DiscoveryConsumer(caller, DrillScenario.Etcd);
        return new DrillSettings(DrillScenario.Etcd, BalancerMode.None, rollouts)
        {
            Discovery = discovery,
            ShutdownDelay = ShutdownDelay,

            // The replicas' GracefulLifecycle:Etcd:ConsumerRefreshInterval: consumers that watch.
            ConsumerRefresh = TimeSpan.Zero,
            Label = discovery.Label,
        };
    }

    /// <summary>
    /// The replicas registered with a Consul agent the drill does not start (the drill tests host the in-repo fake, with
    /// blocking queries); the callers long-poll its health endpoint for passing instances.
    /// </summary>
    public static DrillSettings Consul(DiscoveryCaller caller, int rollouts, Uri? agent)
    {
        var discovery = new DiscoveryConsumer(caller, DrillScenario.Consul);
        return new DrillSettings(DrillScenario.Consul, BalancerMode.None, rollouts)
        {
            Discovery = discovery,
            ShutdownDelay = ShutdownDelay,

            // Where the replicas register, and the callers they declare: ConsumerRefreshInterval 0 (the chain's Consul
            // settings), no load-balancer cache.
            Chain = new ConsumerChain(agent ?? throw new ArgumentException($"The {discovery.Label} scenario needs --registry-url: a Consul agent's address."))
            {
                ServiceName = DiscoveryConsumer.ServiceName,
                LoadBalancerCacheTtl = TimeSpan.Zero,
            },
            Label = discovery.Label,
        };
    }
}
