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
    internal static readonly TimeSpan DefaultConsumerRefreshInterval = TimeSpan.FromSeconds(2);
    internal static readonly TimeSpan DefaultRenewalInterval = TimeSpan.FromSeconds(30);
    internal static readonly TimeSpan DefaultRequestTimeout = TimeSpan.FromSeconds(5);

    internal static readonly TimeSpan DefaultPropagationMargin = TimeSpan.FromSeconds(1);

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
    public IDictionary<string, string> Meta { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

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
    /// Gets or sets how long consumers that poll the catalog or resolve the service through DNS keep a stale answer
    /// (poll interval, DNS TTL, client cache). Consumers using blocking queries see a deregistration at once.
    /// The shutdown delay is raised to at least this value plus <see cref="PropagationMargin"/>.
    /// </summary>
    /// <value>The default value is 2 seconds.</value>
    public TimeSpan ConsumerRefreshInterval { get; set; } = DefaultConsumerRefreshInterval;

    /// <summary>
    /// Gets or sets how long readiness waits after the agent accepted the registration. No wait is needed: the check
    /// follows readiness, so Consul consumers see the instance at the first passing check after it reports ready.
    /// </summary>
    /// <value>The default value is <see langword="null"/>, which means zero.</value>
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
    /// Gets or sets the time added to <see cref="ConsumerRefreshInterval"/> to make the propagation delay, for caches
    /// beyond the consumers' own (a client-side load balancer's server list, a DNS cache).
    /// </summary>
    /// <value>The default value is 1 second.</value>
    public TimeSpan PropagationMargin { get; set; } = DefaultPropagationMargin;
}
