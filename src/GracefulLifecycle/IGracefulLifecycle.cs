namespace GracefulLifecycle;

/// <summary>
/// The lifecycle of this instance as seen by readiness probes, load balancers and registries.
/// Registered as a singleton by <c>AddGracefulLifecycle</c>.
/// </summary>
public interface IGracefulLifecycle
{
    /// <summary>Gets the current phase.</summary>
    LifecyclePhase Phase { get; }

    /// <summary>
    /// Gets a task that completes when the instance becomes ready. It is canceled if shutdown starts first and
    /// faults if a preload task fails or times out.
    /// </summary>
    Task Ready { get; }

    /// <summary>
    /// Gets a token that fires the moment leaving starts (readiness has just turned to failing).
    /// Background jobs should stop taking new work when it fires; work already taken may finish during the drain.
    /// </summary>
    CancellationToken Leaving { get; }

    /// <summary>Occurs after the phase has changed. Handlers run synchronously and must not block.</summary>
    event EventHandler<LifecyclePhaseChangedEventArgs>? PhaseChanged;

    /// <summary>
    /// Starts leaving, exactly as the <c>/prestop</c> endpoint does: readiness fails at once, the leaving token
    /// fires, and the returned task completes when the shutdown delay has elapsed. The instance keeps serving and
    /// the host keeps running; call <c>IHostApplicationLifetime.StopApplication()</c> (or send SIGTERM) to drain
    /// and exit, which then skips the delay already served. Calling it again returns the same sequence.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting for the delay; it does not undo leaving.</param>
    /// <returns>A task that completes when the shutdown delay has elapsed.</returns>
    Task LeaveAsync(CancellationToken cancellationToken = default);
}
