namespace GracefulLifecycle.Consul;

/// <summary>
/// How the instance registers with its local Consul agent, bound from the <c>GracefulLifecycle:Consul</c>
/// configuration section (for example <c>GracefulLifecycle__Consul__Token</c> as an environment variable), which
/// overrides values set in code. Invalid values fail the application at startup with a message naming the key.
/// </summary>
/// <remarks>
/// The service is registered with two HTTP checks. One points at the instance's own readiness endpoint, so Consul
/// marks the instance critical the moment leaving starts, even before the deregistration arrives, and passing only
/// once the instance is ready. The other points at the liveness endpoint and alone carries
/// <see cref="DeregisterCriticalServiceAfter"/>, so Consul's reaper removes an instance whose process stopped
/// answering, never one that is alive but not ready (waiting for another registry's consumers, a dependency down).
/// </remarks>
public sealed class ConsulOptions
{
    /// <summary>The configuration section the options bind from.</summary>
    public const string SectionName = GracefulLifecycleOptions.SectionName + ":Consul";

    internal const string DefaultAddress = "http://127.0.0.1:8500";
    internal static readonly TimeSpan DefaultCheckInterval = TimeSpan.FromSeconds(2);
    internal static readonly TimeSpan DefaultCheckTimeout = TimeSpan.FromSeconds(1);
    internal static readonly TimeSpan MinimumDeregisterCriticalServiceAfter = TimeSpan.FromMinutes(1);
    internal static readonly TimeSpan DefaultRenewalInterval = TimeSpan.FromSeconds(30);
    internal static readonly TimeSpan DefaultRequestTimeout = TimeSpan.FromSeconds(5);

    internal static readonly TimeSpan DefaultPropagationMargin = TimeSpan.FromSeconds(1);

    // Null until set to something other than what the profile gives: the configuration binder writes every property
    // back through its setter (the getter's value when the section has no key), which must not pin the profile's figure
    // before a profile bound from configuration applies. A value equal to the profile's, set before the profile changes,
    // therefore follows the profile.
    private TimeSpan? _consumerRefreshInterval;
    private TimeSpan? _loadBalancerCacheTtl;

    /// <summary>Gets or sets the base address of the Consul agent's HTTP API.</summary>
    /// <value>The default value is <c>http://127.0.0.1:8500</c>, the agent running on the same host.</value>
    public string Address { get; set; } = DefaultAddress;

    /// <summary>
    /// Gets or sets the ACL token sent in the <c>X-Consul-Token</c> header of every call. It needs
    /// <c>service:write</c> on <see cref="ServiceName"/>.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: no token is sent.</value>
    public string? Token { get; set; }

    /// <summary>Gets or sets the name of the service, the one consumers look up.</summary>
    /// <value>The default value is <see langword="null"/>: the application name (<c>IHostEnvironment.ApplicationName</c>).</value>
    public string? ServiceName { get; set; }

    /// <summary>Gets or sets the ID of this instance, unique on the agent.</summary>
    /// <value>
    /// The default value is <see langword="null"/>: <c>{ServiceName}-{host name}-{port}</c>, decided at registration.
    /// </value>
    public string? ServiceId { get; set; }

    /// <summary>Gets or sets the address consumers call the instance on, also used by the health checks.</summary>
    /// <value>
    /// The default value is <see langword="null"/>: the first IPv4 address of a network interface that is up and not
    /// loopback, or 127.0.0.1.
    /// </value>
    public string? ServiceAddress { get; set; }

    /// <summary>Gets or sets the port consumers call the instance on, also used by the health checks.</summary>
    /// <value>
    /// The default value is <see langword="null"/>: the HTTP port the server actually listens on, read at
    /// registration (so a port picked by the OS works too).
    /// </value>
    public int? Port { get; set; }

    /// <summary>Gets the tags of the service. Values from configuration are added to those set in code.</summary>
    public IList<string> Tags { get; } = new List<string>();

    /// <summary>
    /// Gets the metadata of the service (keys of letters, digits, <c>-</c> and <c>_</c>, at most 128 characters,
    /// not starting with <c>consul-</c>; values of at most 512 characters; at most 64 pairs).
    /// </summary>
    public IDictionary<string, string> Metadata { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// Gets or sets how often the agent calls <see cref="CheckUrl"/> and <see cref="LivenessCheckUrl"/>. After leaving
    /// starts, the instance is marked critical at the latest one interval later, even if the deregistration never
    /// arrives. Consul raises an interval below one second to one second.
    /// </summary>
    /// <value>The default value is 2 seconds.</value>
    public TimeSpan CheckInterval { get; set; } = DefaultCheckInterval;

    /// <summary>Gets or sets how long the agent waits for an answer from <see cref="CheckUrl"/> before marking it critical.</summary>
    /// <value>The default value is 1 second.</value>
    public TimeSpan CheckTimeout { get; set; } = DefaultCheckTimeout;

    /// <summary>
    /// Gets or sets how long the liveness check (<see cref="LivenessCheckUrl"/>) may stay critical before the agent
    /// removes the service by itself, which cleans up after a process that died without deregistering. Consul raises a
    /// value below one minute to one minute (it does not refuse it) and looks for such services every 30 seconds, so
    /// the removal comes between this value (at least one minute) and 30 seconds later. The readiness check carries no
    /// such timeout: an instance that is alive but not ready is never removed. <see cref="TimeSpan.Zero"/> never
    /// removes the service.
    /// </summary>
    /// <value>The default value is 1 minute, Consul's minimum.</value>
    public TimeSpan DeregisterCriticalServiceAfter { get; set; } = MinimumDeregisterCriticalServiceAfter;

    /// <summary>
    /// Gets or sets the URL the agent checks. It should answer 2xx only while the instance takes traffic (Consul
    /// also counts 429 as warning and anything else as critical).
    /// </summary>
    /// <value>
    /// The default value is <see langword="null"/>: <c>http://{ServiceAddress}:{Port}{ReadinessPath}</c>, the
    /// instance's own readiness endpoint, so Consul marks it critical the moment leaving starts.
    /// </value>
    public string? CheckUrl { get; set; }

    /// <summary>
    /// Gets or sets the URL of the liveness check, the one <see cref="DeregisterCriticalServiceAfter"/> applies to. It
    /// should answer 2xx while the process runs, whatever its readiness. Set it too when <see cref="CheckUrl"/> points
    /// somewhere the agent reaches the instance by another address.
    /// </summary>
    /// <value>
    /// The default value is <see langword="null"/>: <c>http://{ServiceAddress}:{Port}{LivenessPath}</c>, the instance's
    /// own liveness endpoint, which stays 200 while it drains.
    /// </value>
    public string? LivenessCheckUrl { get; set; }

    /// <summary>
    /// Gets or sets the slowest kind of consumer that calls this service through Consul. It sets
    /// <see cref="ConsumerRefreshInterval"/> and <see cref="LoadBalancerCacheTtl"/> when those are not set explicitly:
    /// one setting declares faster consumers (<see cref="ConsulConsumerProfile.Immediate"/>: Steeltoe, blocking
    /// queries, a mesh).
    /// </summary>
    /// <value>The default value is <see cref="ConsulConsumerProfile.SpringCloudLoadBalancer"/> (a 35 s load-balancer cache).</value>
    public ConsulConsumerProfile ConsumerProfile { get; set; }

    /// <summary>
    /// Gets or sets how long consumers keep a stale answer from Consul itself: their poll interval, a DNS TTL. Consumers
    /// that ask on each lookup or use blocking queries see a deregistration at once (zero).
    /// </summary>
    /// <value>The default value is that of <see cref="ConsumerProfile"/>: zero for both profiles.</value>
    public TimeSpan ConsumerRefreshInterval
    {
        get => _consumerRefreshInterval ?? TimeSpan.Zero;
        set => _consumerRefreshInterval = _consumerRefreshInterval is null && value == TimeSpan.Zero ? null : value;
    }

    /// <summary>
    /// Gets or sets how long the consumers' load balancer keeps its list of instances over their Consul client (Spring
    /// Cloud LoadBalancer's <c>spring.cloud.loadbalancer.cache.ttl</c>); zero when it asks on each call. Set it to the
    /// largest value among the consumers; it is not sent anywhere.
    /// </summary>
    /// <value>The default value is that of <see cref="ConsumerProfile"/>: 35 seconds for Spring Cloud LoadBalancer, zero for Immediate.</value>
    public TimeSpan LoadBalancerCacheTtl
    {
        get => _loadBalancerCacheTtl ?? ProfileLoadBalancerCacheTtl(ConsumerProfile);
        set => _loadBalancerCacheTtl = _loadBalancerCacheTtl is null && value == ProfileLoadBalancerCacheTtl(ConsumerProfile) ? null : value;
    }

    /// <summary>
    /// Gets or sets how long readiness waits after the agent accepted the registration, for consumers to see the instance.
    /// </summary>
    /// <value>
    /// The default value is <see langword="null"/>: the propagation delay for
    /// <see cref="ConsulConsumerProfile.SpringCloudLoadBalancer"/> consumers, which list the instance while its check is
    /// still critical and see it only once their load balancer's cache expires; zero for
    /// <see cref="ConsulConsumerProfile.Immediate"/> consumers, which see it at the first passing check, and the check
    /// follows readiness: waiting before readiness passes would only delay that check.
    /// </value>
    public TimeSpan? VisibilityDelay { get; set; }

    /// <summary>
    /// Gets or sets how often the registration is verified with <c>GET /v1/agent/service/{id}</c>. When the agent
    /// no longer knows the instance (it restarted without persistence, for example), the instance registers again.
    /// <see cref="Timeout.InfiniteTimeSpan"/> turns the verification off.
    /// </summary>
    /// <value>The default value is 30 seconds.</value>
    public TimeSpan RenewalInterval { get; set; } = DefaultRenewalInterval;

    /// <summary>Gets or sets how long one call to the agent may take.</summary>
    /// <value>The default value is 5 seconds.</value>
    public TimeSpan RequestTimeout { get; set; } = DefaultRequestTimeout;

    /// <summary>
    /// Gets or sets the time added to the consumer terms to make the propagation delay, for slack: timers that fire
    /// late, a request already on its way.
    /// </summary>
    /// <value>The default value is 1 second.</value>
    public TimeSpan PropagationMargin { get; set; } = DefaultPropagationMargin;

    /// <summary>Gets whether <see cref="ConsumerRefreshInterval"/> was set, in code or configuration, rather than taken from the profile.</summary>
    internal bool ConsumerRefreshIntervalIsSet => _consumerRefreshInterval is not null;

    /// <summary>Gets whether <see cref="LoadBalancerCacheTtl"/> was set, in code or configuration, rather than taken from the profile.</summary>
    internal bool LoadBalancerCacheTtlIsSet => _loadBalancerCacheTtl is not null;

    internal static TimeSpan ProfileLoadBalancerCacheTtl(ConsulConsumerProfile profile) => profile switch
    {
        // Consumers that see changes at once: Steeltoe's load balancers keep no cache without an IDistributedCache.
        ConsulConsumerProfile.Immediate => TimeSpan.Zero,

        // spring-cloud-commons LoadBalancerCacheProperties: ttl = Duration.ofSeconds(35). An undefined value fails
        // validation; until then, the slowest known consumer.
        _ => TimeSpan.FromSeconds(35),
    };
}
