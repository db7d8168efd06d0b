namespace GracefulLifecycle.Eureka;

/// <summary>
/// The slowest kind of consumer that finds the instance through Eureka, which sets the consumer terms of the
/// propagation delay that are not set explicitly (<see cref="EurekaOptions.LoadBalancerCacheTtl"/>). Each figure is
/// the client's own default, read from its source.
/// </summary>
public enum EurekaConsumerProfile
{
    /// <summary>
    /// Spring Cloud Netflix's Eureka client under Spring Cloud LoadBalancer, the default of current Spring Cloud: the
    /// load balancer caches each service's instances for 35 s (spring-cloud-commons <c>LoadBalancerCacheProperties.ttl</c>,
    /// on by default through <c>LoadBalancerClientConfiguration</c>'s <c>withCaching()</c>) and nothing evicts it on a
    /// registry change.
    /// </summary>
    SpringCloudLoadBalancer = 0,

    /// <summary>
    /// Netflix Ribbon (older Spring Cloud): the load balancer refreshes its server list from the Eureka client every 30 s
    /// (Netflix/ribbon <c>PollingServerListUpdater</c>, <c>ServerListRefreshInterval</c>).
    /// </summary>
    Ribbon = 1,

    /// <summary>
    /// Steeltoe's Eureka client and load balancers: they ask the client's local copy of the registry on each request, with
    /// no cache of their own unless an <c>IDistributedCache</c> is registered (Steeltoe
    /// <c>CachingServiceInstancesResolver</c>): no load-balancer term.
    /// </summary>
    Steeltoe = 2,
}
