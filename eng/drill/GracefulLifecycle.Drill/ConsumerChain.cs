using System.Globalization;

namespace GracefulLifecycle.Drill;

/// <summary>
/// The chain between a deregistration and the last call a consumer makes to the instance, for the consumer-chain
/// drill: the registry's own staleness (Eureka's read-only response cache, refreshed every <see cref="ServerCache"/>),
/// the consumers' registry fetch every <see cref="FetchInterval"/> (Eureka clients; Spring Cloud Consul asks the agent
/// on each load instead), and their load-balancer cache of <see cref="LoadBalancerCacheTtl"/> over it. The replicas
/// declare these through their adapter's options, and the delay they derive must cover the sum.
/// </summary>
/// <param name="RegistryUrl">
/// The Eureka server's base URL (<c>http://host:port/eureka/</c>) or the Consul agent's address. The drill does not
/// start the registry: the drill tests host the in-repo fakes, and a real Eureka server or Consul agent serves as well.
/// </param>
internal sealed record ConsumerChain(Uri RegistryUrl)
{
    /// <summary>Gets the Eureka server's <c>responseCacheUpdateIntervalMs</c>: the registry serving it must use the same.</summary>
    public TimeSpan ServerCache { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets how often each Eureka consumer fetches the registry (<c>registryFetchIntervalSeconds</c>).</summary>
    public TimeSpan FetchInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets the consumers' load-balancer cache TTL (Spring Cloud LoadBalancer's <c>spring.cloud.loadbalancer.cache.ttl</c>,
    /// 35 s by default). Scaled down with the rest, but longer than the adapters' default 1 s propagation margin, so
    /// the margin cannot stand in for the term it is meant to prove.
    /// </summary>
    public TimeSpan LoadBalancerCacheTtl { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Gets the load-balancer cache TTL the replicas declare (<c>LoadBalancerCacheTtl</c> of their adapter):
    /// <see cref="LoadBalancerCacheTtl"/> unless set; zero for the old derivation, which had no such term.
    /// </summary>
    public TimeSpan? DeclaredLoadBalancerCacheTtl { get; init; }

    /// <summary>
    /// Gets the name the replicas register under and the consumers look up. Each run of a drill has its own: the
    /// drill kills its last replicas without deregistering them, and in the next run's list they would be calls to
    /// instances long gone.
    /// </summary>
    public string ServiceName { get; init; } = "drill";

    /// <summary>
    /// Gets how many independent consumers call the service, each with its own fetch and cache phases. The more there
    /// are, the surer one of them holds an instance near the worst case: with 16, the old derivation of Eureka's chain
    /// loses calls in a single rollout but about once in 10,000 runs (a simulation of the phases).
    /// </summary>
    public int Clients { get; init; } = 16;

    /// <summary>Gets the longest a consumer can keep calling an instance after its deregistration, without the margin.</summary>
    public TimeSpan WorstCase(DrillScenario registry) =>
        registry == DrillScenario.Eureka ? ServerCache + FetchInterval + LoadBalancerCacheTtl : LoadBalancerCacheTtl;

    /// <summary>Gets the consumer process's settings (environment variables).</summary>
    public Dictionary<string, string> ConsumerSettings(DrillScenario registry) => new()
    {
        ["Consumer__Registry"] = registry == DrillScenario.Eureka ? "eureka" : "consul",
        ["Consumer__RegistryUrl"] = RegistryUrl.ToString(),
        ["Consumer__Service"] = ServiceName,
        ["Consumer__FetchInterval"] = Text(FetchInterval),
        ["Consumer__LoadBalancerCacheTtl"] = Text(LoadBalancerCacheTtl),
        ["Consumer__Clients"] = Clients.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Adds the replicas' registry settings: where to register, and the chain they declare.</summary>
    public void AddReplicaSettings(DrillScenario registry, Dictionary<string, string> values)
    {
        var declaredTtl = Text(DeclaredLoadBalancerCacheTtl ?? LoadBalancerCacheTtl);
        if (registry == DrillScenario.Eureka)
        {
            // registryFetchIntervalSeconds is whole seconds, as in Eureka's client: a fraction of the fetch interval is
            // declared with the server's cache, which adds to the same sum.
            var fetchSeconds = (int)Math.Floor(FetchInterval.TotalSeconds);
            var cacheMs = (long)Math.Ceiling((ServerCache + FetchInterval - TimeSpan.FromSeconds(fetchSeconds)).TotalMilliseconds);
            values["GracefulLifecycle__Eureka__ServiceUrl"] = RegistryUrl.ToString();
            values["GracefulLifecycle__Eureka__AppName"] = ServiceName;
            values["GracefulLifecycle__Eureka__IpAddress"] = "127.0.0.1";
            values["GracefulLifecycle__Eureka__PreferIpAddress"] = "true";
            values["GracefulLifecycle__Eureka__ResponseCacheUpdateIntervalMs"] = cacheMs.ToString(CultureInfo.InvariantCulture);
            values["GracefulLifecycle__Eureka__RegistryFetchIntervalSeconds"] = fetchSeconds.ToString(CultureInfo.InvariantCulture);
            values["GracefulLifecycle__Eureka__LoadBalancerCacheTtl"] = declaredTtl;
        }
        else
        {
            // Spring Cloud Consul keeps no copy of its own: it asks the agent whenever its load-balancer cache expires.
            values["GracefulLifecycle__Consul__Address"] = RegistryUrl.ToString();
            values["GracefulLifecycle__Consul__ServiceName"] = ServiceName;
            values["GracefulLifecycle__Consul__ServiceAddress"] = "127.0.0.1";
            values["GracefulLifecycle__Consul__ConsumerRefreshInterval"] = Text(TimeSpan.Zero);
            values["GracefulLifecycle__Consul__LoadBalancerCacheTtl"] = declaredTtl;
        }
    }

    private static string Text(TimeSpan value) => value.ToString("c", CultureInfo.InvariantCulture);
}
