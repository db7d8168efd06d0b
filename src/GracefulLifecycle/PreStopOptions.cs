namespace GracefulLifecycle;

/// <summary>
/// Who may call the preStop endpoint, an admin action. With nothing configured only loopback callers are
/// accepted. Configuring any of <see cref="ManagementPort"/>, <see cref="Token"/> or <see cref="AllowedNetworks"/>
/// replaces that default, and then every configured check must pass. A refused call changes nothing, answers
/// 404 (wrong port) or 403, and is logged.
/// </summary>
public sealed class PreStopOptions
{
    /// <summary>
    /// Gets or sets the only local port the endpoint answers on (a management port that is not exposed through
    /// the Service). The server must listen on it too, for example through <c>ASPNETCORE_URLS</c>.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: any port.</value>
    public int? ManagementPort { get; set; }

    /// <summary>
    /// Gets or sets a secret the caller must send in the <see cref="TokenHeaderName"/> header, compared in constant
    /// time. A Kubernetes <c>preStop.httpGet</c> hook can send it through <c>httpHeaders</c>.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: no token.</value>
    public string? Token { get; set; }

    /// <summary>Gets or sets the request header that carries <see cref="Token"/>.</summary>
    /// <value>The default value is <c>X-PreStop-Token</c>.</value>
    public string TokenHeaderName { get; set; } = "X-PreStop-Token";

    /// <summary>
    /// Gets the client networks, in CIDR notation (<c>10.0.0.0/8</c>, <c>fd00::/8</c>), allowed to call the endpoint
    /// in addition to loopback. A kubelet's <c>httpGet</c> hook comes from the node, not from loopback.
    /// </summary>
    public IList<string> AllowedNetworks { get; } = new List<string>();

    /// <summary>
    /// Gets or sets what the instance does when no stop follows an accepted preStop call within the termination grace
    /// period less the drain timeout and the shutdown margin (configuration: <c>Stop</c> or <c>Rejoin</c>).
    /// </summary>
    /// <value>The default value is <see cref="PreStopFollowUpAction.Stop"/>.</value>
    public PreStopFollowUpAction WhenNoStopFollows { get; set; } = PreStopFollowUpAction.Stop;

    /// <summary>
    /// Gets or sets how long the kubelet already waits before it sends SIGTERM, when the pod's preStop hook is
    /// Kubernetes' native <c>preStop: sleep: {seconds: N}</c> (KEP-3960, on by default since 1.30) instead of a call to
    /// the preStop endpoint. Set it to N seconds: the sleep counts in the budget checked against
    /// <see cref="GracefulLifecycleOptions.TerminationGracePeriod"/>, and after SIGTERM only what is left of
    /// <see cref="GracefulLifecycleOptions.ShutdownDelay"/> is served, since load balancers had the sleep to catch up.
    /// A registry's propagation delay is still served in full after SIGTERM: the instance can only deregister once it
    /// is told, and registry caches start forgetting it from then on. Leaving any other way (SIGINT,
    /// <see cref="IGracefulLifecycle.LeaveAsync"/>, the preStop endpoint) serves the whole delay.
    /// </summary>
    /// <value>The default value is <see cref="TimeSpan.Zero"/>: no preStop sleep.</value>
    public TimeSpan Sleep { get; set; }
}
