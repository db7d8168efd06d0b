namespace GracefulLifecycle.Consul;

/// <summary>
/// The slowest kind of consumer that finds the instance through Consul, which sets the consumer terms of the
/// propagation delay that are not set explicitly (<see cref="ConsulOptions.ConsumerRefreshInterval"/>,
/// <see cref="ConsulOptions.LoadBalancerCacheTtl"/>) and whether readiness waits for consumers to see a new instance.
/// Each figure is the client's own default, read from its source.
/// </summary>
public enum ConsulConsumerProfile
{
    /// <summary>
    /// Spring Cloud Consul under Spring Cloud LoadBalancer, the default of current Spring Cloud. The discovery client asks
    /// <c>/v1/health/service/{name}</c> on each lookup, with <c>passing=false</c> by default (spring-cloud-consul
    /// <c>ConsulDiscoveryProperties.queryPassing</c>), so it lists critical instances too; the load balancer caches the
    /// answer for 35 s (spring-cloud-commons <c>LoadBalancerCacheProperties.ttl</c>) and nothing evicts it on a change.
    /// </summary>
    SpringCloudLoadBalancer = 0,

    /// <summary>
    /// Consumers that see a change at once and list passing instances only: Steeltoe (<c>QueryPassing</c> true, no
    /// load-balancer cache by default), blocking queries on the health endpoint, Consul's service mesh. No consumer term.
    /// </summary>
    Immediate = 1,
}
