namespace GracefulLifecycle;

/// <summary>
/// The liveness probe as the orchestrator runs it (Kubernetes <c>livenessProbe.periodSeconds</c> and
/// <c>failureThreshold</c>), declared so that the startup check can warn when a drain outlasts what the probe forgives.
/// The server stops accepting connections when the drain starts, so from then to the exit a probe is refused, which
/// counts as a failure. The kubelet stops liveness probes of a pod being deleted, but not those of a container whose
/// drain no deletion started (a <c>/prestop</c> call with no SIGTERM after it, a failed background service, a signal
/// from inside the container): there, <see cref="FailureThreshold"/> refusals in a row restart the container mid-drain.
/// </summary>
public sealed class LivenessProbeOptions
{
    internal const int DefaultFailureThreshold = 3;

    /// <summary>Gets or sets how often the probe runs (<c>periodSeconds</c>).</summary>
    /// <value>The default value is <see langword="null"/>: no probe declared, nothing checked.</value>
    public TimeSpan? Period { get; set; }

    /// <summary>Gets or sets how many failures in a row restart the container (<c>failureThreshold</c>).</summary>
    /// <value>The default value is 3, the Kubernetes default.</value>
    public int FailureThreshold { get; set; } = DefaultFailureThreshold;

    /// <summary>
    /// Gets how long the probe may fail before the container is restarted: <see cref="Period"/> × <see cref="FailureThreshold"/>,
    /// saturated at <see cref="TimeSpan.MaxValue"/> (both are validated positive; their product may not fit).
    /// </summary>
    internal TimeSpan? FailureWindow => Period is not { } period || FailureThreshold < 1 ? null
        : period.Ticks > TimeSpan.MaxValue.Ticks / FailureThreshold ? TimeSpan.MaxValue
        : TimeSpan.FromTicks(period.Ticks * FailureThreshold);
}
