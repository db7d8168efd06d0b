namespace GracefulLifecycle.Etcd;

/// <summary>
/// Lease-based registration in etcd (section <c>GracefulLifecycle:Etcd</c>): the instance is a key
/// <c>{KeyPrefix}/{ServiceName}/{InstanceId}</c> holding JSON (name, id, address, port, metadata), attached to a lease
/// that is kept alive while the instance runs and revoked when it leaves, which deletes the key at once.
/// </summary>
public sealed class EtcdOptions
{
    /// <summary>The configuration section the options bind from.</summary>
    public const string SectionName = GracefulLifecycleOptions.SectionName + ":Etcd";

    internal static readonly TimeSpan DefaultRequestTimeout = TimeSpan.FromSeconds(5);
    internal static readonly TimeSpan DefaultPropagationMargin = TimeSpan.FromSeconds(1);

    // Null until set to something other than what the profile gives: the configuration binder writes every property
    // back through its setter (the getter's value when the section has no key), which must not pin the profile's figure
    // before a profile bound from configuration applies. A value equal to the profile's, set before the profile changes,
    // therefore follows the profile.
    private TimeSpan? _consumerRefreshInterval;
    private TimeSpan? _loadBalancerCacheTtl;

    /// <summary>
    /// Gets or sets the etcd client URLs, comma-separated; each call starts at the endpoint that answered last and
    /// fails over to the next one, in order, on a connection error, a timeout, a redirect or a 5xx answer.
    /// The JSON gateway under <c>/v3/</c> is used (etcd 3.4 and later).
    /// </summary>
    /// <value>The default value is <c>http://127.0.0.1:2379</c>.</value>
    public string Endpoints { get; set; } = "http://127.0.0.1:2379";

    /// <summary>Gets or sets the prefix of the service keys.</summary>
    /// <value>The default value is <c>/services</c>.</value>
    public string KeyPrefix { get; set; } = "/services";

    /// <summary>Gets or sets the service name in the key.</summary>
    /// <value>The default value is <see langword="null"/>: the application name.</value>
    public string? ServiceName { get; set; }

    /// <summary>Gets or sets the instance id in the key.</summary>
    /// <value>The default value is <see langword="null"/>: <c>{host name}-{port}</c>.</value>
    public string? InstanceId { get; set; }

    /// <summary>Gets or sets the address consumers call (the instance's, not etcd's: that is <see cref="Endpoints"/>).</summary>
    /// <value>The default value is <see langword="null"/>: the first IPv4 address of an interface that is up.</value>
    public string? ServiceAddress { get; set; }

    /// <summary>Gets or sets the port consumers call.</summary>
    /// <value>The default value is <see langword="null"/>: the HTTP port the server listens on.</value>
    public int? Port { get; set; }

    /// <summary>Gets the metadata stored with the instance.</summary>
    public IDictionary<string, string> Metadata { get; } = new Dictionary<string, string>();

    /// <summary>Gets or sets the lease time-to-live, in whole seconds: how long etcd keeps the key of an instance that stopped renewing.</summary>
    /// <value>The default value is 10 seconds.</value>
    public TimeSpan LeaseTtl { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets how often the lease is kept alive.</summary>
    /// <value>The default value is <see langword="null"/>: a third of <see cref="LeaseTtl"/>.</value>
    public TimeSpan? KeepAliveInterval { get; set; }

    /// <summary>
    /// Gets or sets the slowest kind of consumer that calls this service through etcd. It sets
    /// <see cref="ConsumerRefreshInterval"/> and <see cref="LoadBalancerCacheTtl"/> when those are not set explicitly:
    /// one setting declares consumers that watch (<see cref="EtcdConsumerProfile.Watch"/>).
    /// </summary>
    /// <value>The default value is <see cref="EtcdConsumerProfile.Polling"/> (a 2 s poll, assumed).</value>
    public EtcdConsumerProfile ConsumerProfile { get; set; }

    /// <summary>
    /// Gets or sets how long consumers may keep a stale view of the service keys: their polling interval, zero for
    /// consumers that watch. Set it to the largest value among them.
    /// </summary>
    /// <value>The default value is that of <see cref="ConsumerProfile"/>: 2 seconds for Polling, zero for Watch.</value>
    public TimeSpan ConsumerRefreshInterval
    {
        get => _consumerRefreshInterval ?? (ConsumerProfile == EtcdConsumerProfile.Watch ? TimeSpan.Zero : TimeSpan.FromSeconds(2));
        set => _consumerRefreshInterval = _consumerRefreshInterval is null && value == (ConsumerProfile == EtcdConsumerProfile.Watch ? TimeSpan.Zero : TimeSpan.FromSeconds(2)) ? null : value;
    }

    /// <summary>
    /// Gets or sets how long the consumers' load balancer keeps its list of instances over what they read from etcd;
    /// zero when they pick from it directly.
    /// </summary>
    /// <value>The default value is that of <see cref="ConsumerProfile"/>: zero for both profiles.</value>
    public TimeSpan LoadBalancerCacheTtl
    {
        get => _loadBalancerCacheTtl ?? TimeSpan.Zero;
        set => _loadBalancerCacheTtl = _loadBalancerCacheTtl is null && value == TimeSpan.Zero ? null : value;
    }

    /// <summary>
    /// Gets or sets how long readiness waits after the key is written, for consumers to see the instance: a new key
    /// reaches them through the same poll and cache as a deleted one.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: the propagation delay.</value>
    public TimeSpan? VisibilityDelay { get; set; }

    /// <summary>Gets or sets the timeout of each HTTP call to one etcd endpoint; the next endpoint is tried when it passes.</summary>
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
}
