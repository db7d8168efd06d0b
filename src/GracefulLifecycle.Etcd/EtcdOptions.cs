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

    /// <summary>Gets or sets the address consumers call.</summary>
    /// <value>The default value is <see langword="null"/>: the first IPv4 address of an interface that is up.</value>
    public string? Address { get; set; }

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
    /// Gets or sets how long consumers may keep a stale view of the service keys (their polling interval; zero for
    /// consumers that watch). The propagation delay is this plus <see cref="PropagationMargin"/>.
    /// </summary>
    /// <value>The default value is 2 seconds.</value>
    public TimeSpan ConsumerRefreshInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Gets or sets how long readiness waits after the key is written.</summary>
    /// <value>The default value is <see langword="null"/>: <see cref="ConsumerRefreshInterval"/>.</value>
    public TimeSpan? VisibilityDelay { get; set; }

    /// <summary>Gets or sets the timeout of each HTTP call to one etcd endpoint; the next endpoint is tried when it passes.</summary>
    /// <value>The default value is 5 seconds.</value>
    public TimeSpan RequestTimeout { get; set; } = DefaultRequestTimeout;

    /// <summary>
    /// Gets or sets the time added to <see cref="ConsumerRefreshInterval"/> to make the propagation delay, for caches
    /// beyond the consumers' own (a client-side load balancer's server list).
    /// </summary>
    /// <value>The default value is 1 second.</value>
    public TimeSpan PropagationMargin { get; set; } = DefaultPropagationMargin;
}
