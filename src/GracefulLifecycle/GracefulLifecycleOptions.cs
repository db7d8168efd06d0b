namespace GracefulLifecycle;

/// <summary>
/// Options of the graceful lifecycle, bound from the <c>GracefulLifecycle</c> configuration section
/// (for example <c>GracefulLifecycle__ShutdownDelay=00:00:10</c> as an environment variable).
/// Invalid values fail the application at startup with a message naming the option.
/// </summary>
public sealed class GracefulLifecycleOptions
{
    /// <summary>The configuration section the options bind from.</summary>
    public const string SectionName = "GracefulLifecycle";

    /// <summary>
    /// The name under which <c>AddGracefulLifecycle</c> registers the lifecycle's health check (Healthy only while
    /// Ready, the phase in its data), and the key of its entry in a health report.
    /// </summary>
    public const string HealthCheckName = "GracefulLifecycle";

    internal static readonly TimeSpan DefaultShutdownDelay = TimeSpan.FromSeconds(5);
    internal static readonly TimeSpan DefaultDrainTimeout = TimeSpan.FromSeconds(20);
    internal static readonly TimeSpan DefaultTerminationGracePeriod = TimeSpan.FromSeconds(30);
    internal static readonly TimeSpan DefaultShutdownMargin = TimeSpan.FromSeconds(2);
    internal static readonly TimeSpan DefaultPreloadTimeout = TimeSpan.FromMinutes(2);
    internal static readonly TimeSpan DefaultWebSocketCloseDelay = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets how long the instance keeps serving after leaving starts (readiness already failing) so that
    /// load balancers, kube-proxy and registry caches stop routing to it before the server stops listening.
    /// With service registries it is raised to the largest of their propagation delays, counted from deregistration.
    /// Served once: a SIGTERM that follows a <c>/prestop</c> call does not wait again. Skipped when the instance
    /// never became ready, and cut short by a second SIGTERM or SIGINT.
    /// </summary>
    /// <value>The default value is 5 seconds.</value>
    public TimeSpan ShutdownDelay { get; set; } = DefaultShutdownDelay;

    /// <summary>
    /// Gets or sets how long in-flight requests may take to finish once the server has stopped accepting
    /// connections. Requests still running then are aborted (their <c>RequestAborted</c> token fires).
    /// An idle instance does not wait for it.
    /// </summary>
    /// <value>The default value is 20 seconds.</value>
    public TimeSpan DrainTimeout { get; set; } = DefaultDrainTimeout;

    /// <summary>
    /// Gets or sets how long after the drain starts the library closes the WebSockets the application has not closed
    /// itself, with status 1001 (Going Away) and a full close handshake, so that clients reconnect elsewhere. The
    /// application is told at the start of the drain (<see cref="IGracefulLifecycle.Draining"/>) and may close them
    /// first, with messages of its own. Connections still open at the end of <see cref="DrainTimeout"/> are aborted.
    /// Must be less than <see cref="DrainTimeout"/>.
    /// </summary>
    /// <value>The default value is 1 second.</value>
    public TimeSpan WebSocketCloseDelay { get; set; } = DefaultWebSocketCloseDelay;

    /// <summary>
    /// Gets or sets the orchestrator's grace period between the start of termination and the kill
    /// (Kubernetes <c>terminationGracePeriodSeconds</c>). <see cref="ShutdownDelay"/> + <see cref="DrainTimeout"/>
    /// + <see cref="ShutdownMargin"/> must fit in it.
    /// </summary>
    /// <value>The default value is 30 seconds, the Kubernetes default.</value>
    public TimeSpan TerminationGracePeriod { get; set; } = DefaultTerminationGracePeriod;

    /// <summary>
    /// Gets or sets the time kept free in the grace period after the drain, for the host to stop its other
    /// services and the process to exit.
    /// </summary>
    /// <value>The default value is 2 seconds.</value>
    public TimeSpan ShutdownMargin { get; set; } = DefaultShutdownMargin;

    /// <summary>Gets or sets the timeout of each preload task that does not set its own.</summary>
    /// <value>The default value is 2 minutes.</value>
    public TimeSpan PreloadTimeout { get; set; } = DefaultPreloadTimeout;

    /// <summary>Gets or sets the path of the liveness endpoint.</summary>
    /// <value>The default value is <c>/health</c>.</value>
    public string LivenessPath { get; set; } = "/health";

    /// <summary>Gets or sets the path of the readiness endpoint.</summary>
    /// <value>The default value is <c>/ifready</c>.</value>
    public string ReadinessPath { get; set; } = "/ifready";

    /// <summary>Gets or sets the path of the preStop endpoint.</summary>
    /// <value>The default value is <c>/prestop</c>.</value>
    public string PreStopPath { get; set; } = "/prestop";

    /// <summary>Gets or sets the tag of the health checks that decide liveness.</summary>
    /// <value>The default value is <c>live</c>.</value>
    public string LivenessTag { get; set; } = "live";

    /// <summary>Gets or sets the tag of the health checks that must also pass for readiness.</summary>
    /// <value>The default value is <c>ready</c>.</value>
    public string ReadinessTag { get; set; } = "ready";

    /// <summary>
    /// Gets or sets a value indicating whether the library handles SIGTERM, SIGINT, SIGQUIT and SIGHUP itself (leave,
    /// serve the delay, drain, stop). Turn it off only in test hosts, where a signal is meant for the test runner
    /// (<c>GracefulLifecycle.Testing</c> does): with it off, nothing in the library reacts to a signal.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool HandleSignals { get; set; } = true;

    /// <summary>Gets who may call the preStop endpoint.</summary>
    public PreStopOptions PreStop { get; } = new();

    /// <summary>Gets how the instance registers with service registries, when any is configured.</summary>
    public RegistrationOptions Registration { get; } = new();

    /// <summary>Gets the adaptive shutdown delay (off by default): the delay ends once routed traffic has stopped. Experimental (<c>GLEXP001</c>).</summary>
    [System.Diagnostics.CodeAnalysis.Experimental(DiagnosticIds.Experiments.AdaptiveDelay, UrlFormat = DiagnosticIds.Experiments.UrlFormat)]
    public AdaptiveDelayOptions AdaptiveDelay { get; } = new();

    /// <summary>
    /// Gets the orchestrator's liveness probe, as declared in the deployment (none by default), so that startup warns when
    /// the drain outlasts the probe's failure window.
    /// </summary>
    public LivenessProbeOptions LivenessProbe { get; } = new();
}
