namespace GracefulLifecycle.Eureka;

/// <summary>
/// How the instance registers with Eureka, bound from the <c>GracefulLifecycle:Eureka</c> configuration section
/// (for example <c>GracefulLifecycle__Eureka__ServiceUrl</c> as an environment variable); values there override
/// those set in code. Names follow Spring Cloud Netflix (<c>eureka.client.*</c>, <c>eureka.instance.*</c>,
/// <c>eureka.server.*</c>) so existing settings can be copied over.
/// </summary>
/// <remarks>
/// The timings also decide how long the instance waits: readiness waits <see cref="VisibilityDelay"/> after the
/// registration, and the shutdown delay is raised to the propagation delay, the whole chain from the cancel to the
/// last consumer: <see cref="ResponseCacheUpdateIntervalMs"/> (the server's read-only cache) +
/// <see cref="RegistryFetchIntervalSeconds"/> (the consumers' fetch) + <see cref="LoadBalancerCacheTtl"/> (their load
/// balancer's cache, set by <see cref="ConsumerProfile"/> unless set explicitly) + <see cref="PropagationMargin"/>,
/// 96 s with the defaults. It must fit in <c>GracefulLifecycle:TerminationGracePeriod</c> with the drain.
/// </remarks>
public sealed class EurekaOptions
{
    /// <summary>The configuration section the options bind from.</summary>
    public const string SectionName = GracefulLifecycleOptions.SectionName + ":Eureka";

    internal const int DefaultLeaseRenewalIntervalInSeconds = 30;
    internal const int DefaultLeaseExpirationDurationInSeconds = 90;
    internal const int DefaultResponseCacheUpdateIntervalMs = 30_000;
    internal const int DefaultRegistryFetchIntervalSeconds = 30;
    internal static readonly TimeSpan DefaultPropagationMargin = TimeSpan.FromSeconds(1);
    internal static readonly TimeSpan DefaultRequestTimeout = TimeSpan.FromSeconds(5);

    // Null until set to something other than what the profile gives: the configuration binder writes every property
    // back through its setter (the getter's value when the section has no key), which must not pin the profile's figure
    // before a profile bound from configuration applies. A value equal to the profile's, set before the profile changes,
    // therefore follows the profile.
    private TimeSpan? _loadBalancerCacheTtl;

    /// <summary>
    /// Gets or sets the base URLs of the Eureka servers, comma-separated, as in Spring's
    /// <c>eureka.client.serviceUrl.defaultZone</c>: for example
    /// <c>http://eureka1:8761/eureka/,http://eureka2:8761/eureka/</c>. Each call goes to the server that answered
    /// last and fails over to the next one, in order, on a connection error, a timeout or a 5xx answer. Required.
    /// </summary>
    /// <value>The default value is empty, which fails validation.</value>
    public string ServiceUrl { get; set; } = string.Empty;

    /// <summary>Gets or sets the application name the instance registers under; it is sent upper-case, as Eureka stores it.</summary>
    /// <value>The default value is <see langword="null"/>: the host's <c>IHostEnvironment.ApplicationName</c>.</value>
    public string? AppName { get; set; }

    /// <summary>Gets or sets the id of the instance, unique within the application.</summary>
    /// <value>
    /// The default value is <see langword="null"/>: <c>{HostName}:{app name lower-case}:{port}</c>, as Spring Cloud builds it.
    /// </value>
    public string? InstanceId { get; set; }

    /// <summary>Gets or sets the host name consumers use to call the instance. Ignored when <see cref="PreferIpAddress"/> is set.</summary>
    /// <value>The default value is <see langword="null"/>: the machine's host name (in Kubernetes, the pod name).</value>
    public string? HostName { get; set; }

    /// <summary>Gets or sets the IP address registered for the instance.</summary>
    /// <value>The default value is <see langword="null"/>: the first IPv4 address of a network interface that is up and not loopback.</value>
    public string? IpAddress { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether the IP address is registered as the host name, so consumers call the
    /// instance by IP (usual in Kubernetes, where pod names do not resolve across the cluster).
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool PreferIpAddress { get; set; }

    /// <summary>Gets or sets the HTTP port registered for the instance.</summary>
    /// <value>The default value is <see langword="null"/>: the HTTP port the server actually listens on, read when registering.</value>
    public int? Port { get; set; }

    /// <summary>Gets or sets the HTTPS port registered for the instance; the secure port is enabled only when it is set.</summary>
    /// <value>The default value is <see langword="null"/>: no secure port.</value>
    public int? SecurePort { get; set; }

    /// <summary>Gets or sets the virtual IP address (the name consumers look the service up by).</summary>
    /// <value>The default value is <see langword="null"/>: the application name in lower case.</value>
    public string? VipAddress { get; set; }

    /// <summary>Gets or sets the secure virtual IP address.</summary>
    /// <value>The default value is <see langword="null"/>: the application name in lower case.</value>
    public string? SecureVipAddress { get; set; }

    /// <summary>Gets the metadata registered with the instance (Spring's <c>eureka.instance.metadataMap</c>).</summary>
    /// <value>The default value is an empty dictionary.</value>
    public IDictionary<string, string> Metadata { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Gets or sets how often the instance sends a heartbeat (<c>eureka.instance.leaseRenewalIntervalInSeconds</c>).</summary>
    /// <value>The default value is 30 seconds.</value>
    public int LeaseRenewalIntervalInSeconds { get; set; } = DefaultLeaseRenewalIntervalInSeconds;

    /// <summary>
    /// Gets or sets how long Eureka keeps the instance without a heartbeat before evicting it
    /// (<c>eureka.instance.leaseExpirationDurationInSeconds</c>). Must be longer than <see cref="LeaseRenewalIntervalInSeconds"/>.
    /// </summary>
    /// <value>The default value is 90 seconds.</value>
    public int LeaseExpirationDurationInSeconds { get; set; } = DefaultLeaseExpirationDurationInSeconds;

    /// <summary>
    /// Gets or sets the Eureka server's <c>eureka.server.responseCacheUpdateIntervalMs</c>: consumers read a cache that
    /// is refreshed at this interval, so a registration or a deregistration reaches them only after it. Set it to the
    /// servers' value; it is not sent anywhere.
    /// </summary>
    /// <value>The default value is 30000 milliseconds, the server's default.</value>
    public int ResponseCacheUpdateIntervalMs { get; set; } = DefaultResponseCacheUpdateIntervalMs;

    /// <summary>
    /// Gets or sets the consumers' <c>eureka.client.registryFetchIntervalSeconds</c>: how often the services calling
    /// this one refresh their copy of the registry. Set it to the largest value among them; it is not sent anywhere.
    /// </summary>
    /// <value>The default value is 30 seconds, the client's default.</value>
    public int RegistryFetchIntervalSeconds { get; set; } = DefaultRegistryFetchIntervalSeconds;

    /// <summary>
    /// Gets or sets the slowest kind of consumer that calls this service through Eureka. It sets
    /// <see cref="LoadBalancerCacheTtl"/> when that is not set explicitly: one setting declares faster consumers
    /// (<see cref="EurekaConsumerProfile.Steeltoe"/>: no load-balancer cache).
    /// </summary>
    /// <value>The default value is <see cref="EurekaConsumerProfile.SpringCloudLoadBalancer"/> (a 35 s load-balancer cache).</value>
    public EurekaConsumerProfile ConsumerProfile { get; set; }

    /// <summary>
    /// Gets or sets how long the consumers' load balancer keeps its list of instances over their Eureka client
    /// (Spring Cloud LoadBalancer's <c>spring.cloud.loadbalancer.cache.ttl</c>, Ribbon's <c>ServerListRefreshInterval</c>);
    /// zero when they ask the client on each call. Set it to the largest value among the consumers; it is not sent anywhere.
    /// </summary>
    /// <value>
    /// The default value is that of <see cref="ConsumerProfile"/>: 35 seconds for Spring Cloud LoadBalancer, 30 seconds
    /// for Ribbon, zero for Steeltoe.
    /// </value>
    public TimeSpan LoadBalancerCacheTtl
    {
        get => _loadBalancerCacheTtl ?? ProfileLoadBalancerCacheTtl(ConsumerProfile);
        set => _loadBalancerCacheTtl = _loadBalancerCacheTtl is null && value == ProfileLoadBalancerCacheTtl(ConsumerProfile) ? null : value;
    }

    /// <summary>
    /// Gets or sets the time added to the propagation delay for slack: timers that fire late, a request already on its way.
    /// </summary>
    /// <value>The default value is 1 second.</value>
    public TimeSpan PropagationMargin { get; set; } = DefaultPropagationMargin;

    /// <summary>
    /// Gets or sets how long readiness waits after Eureka accepted the registration, for consumers to see the instance:
    /// a new instance reaches them through the same caches as a departure.
    /// </summary>
    /// <value>
    /// The default value is <see langword="null"/>: the propagation delay, <see cref="ResponseCacheUpdateIntervalMs"/>
    /// + <see cref="RegistryFetchIntervalSeconds"/> + <see cref="LoadBalancerCacheTtl"/> + <see cref="PropagationMargin"/>.
    /// </value>
    public TimeSpan? VisibilityDelay { get; set; }

    /// <summary>Gets or sets the timeout of each HTTP call to one Eureka server; the next server is tried when it passes.</summary>
    /// <value>The default value is 5 seconds.</value>
    public TimeSpan RequestTimeout { get; set; } = DefaultRequestTimeout;

    /// <summary>Gets whether <see cref="LoadBalancerCacheTtl"/> was set, in code or configuration, rather than taken from the profile.</summary>
    internal bool LoadBalancerCacheTtlIsSet => _loadBalancerCacheTtl is not null;

    internal static TimeSpan ProfileLoadBalancerCacheTtl(EurekaConsumerProfile profile) => profile switch
    {
        // spring-cloud-commons LoadBalancerCacheProperties: ttl = Duration.ofSeconds(35).
        EurekaConsumerProfile.SpringCloudLoadBalancer => TimeSpan.FromSeconds(35),

        // Netflix/ribbon PollingServerListUpdater: LISTOFSERVERS_CACHE_REPEAT_INTERVAL 30 s.
        EurekaConsumerProfile.Ribbon => TimeSpan.FromSeconds(30),

        // Steeltoe load balancers ask the Eureka client's local registry on each request (no IDistributedCache by default).
        EurekaConsumerProfile.Steeltoe => TimeSpan.Zero,

        // An undefined value fails validation; until then, the slowest known consumer.
        _ => TimeSpan.FromSeconds(35),
    };
}
