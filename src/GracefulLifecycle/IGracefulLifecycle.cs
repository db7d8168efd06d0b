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
    /// Each leave has its own token: if the instance rejoins instead of stopping
    /// (<see cref="PreStopOptions.WhenNoStopFollows"/>), this property returns a new, uncancelled token, so read it
    /// again rather than keep the old one.
    /// </summary>
    CancellationToken Leaving { get; }

    /// <summary>
    /// Gets a token that fires when the drain starts: the shutdown delay is over, the server is about to stop
    /// accepting connections (with <c>WebApplication</c>, Kestrel is the first service the host stops), and
    /// long-lived connections should wind down now. Streaming handlers (server-sent events, gRPC server streams) end
    /// their response at the next message boundary; WebSocket handlers close with 1001 (Going Away). A WebSocket the
    /// application leaves open is closed by the library after <see cref="GracefulLifecycleOptions.WebSocketCloseDelay"/>.
    /// In a request handler, <c>HttpContext.GetDrainingToken()</c> also fires when the request is aborted.
    /// </summary>
    CancellationToken Draining { get; }

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

    /// <summary>
    /// Tells the lifecycle that a unit of work is in progress until the returned object is disposed: the drain waits
    /// for it (bounded by <see cref="GracefulLifecycleOptions.DrainTimeout"/>), and the process exits as soon as the
    /// last request and the last unit of work have ended. Work still running at the drain deadline is logged by name,
    /// counted (<c>gracefullifecycle.drain.abandoned_work</c>) and its <see cref="TrackedWork.Aborted"/> token fires.
    /// Usable from any code: a job, a message handler, a fire-and-forget task started by a request.
    /// </summary>
    /// <param name="name">Names the work in logs, for example <c>invoice-42</c>.</param>
    /// <returns>The unit of work; dispose it when the work ends.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null, empty or white space.</exception>
    TrackedWork BeginWork(string name);
}
