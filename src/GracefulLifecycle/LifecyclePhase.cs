namespace GracefulLifecycle;

/// <summary>
/// The phases an instance goes through, in order. A phase never goes back to an earlier one, with one exception
/// that is off by default: with <see cref="PreStopOptions.WhenNoStopFollows"/> set to
/// <see cref="PreStopFollowUpAction.Rejoin"/>, a leave that no stop followed goes back from <see cref="Leaving"/> to
/// <see cref="Registering"/> (or straight to <see cref="Ready"/> without registries).
/// </summary>
public enum LifecyclePhase
{
    /// <summary>The host is starting; the server may not listen yet. Readiness fails.</summary>
    Starting = 0,

    /// <summary>The server listens and preload tasks run. Liveness answers; readiness fails.</summary>
    Preloading = 1,

    /// <summary>
    /// Preload work is done and the instance is being registered with its service registries, then given time to
    /// become visible to their consumers. Skipped when no registry is configured. Readiness fails.
    /// </summary>
    Registering = 2,

    /// <summary>The instance takes traffic: readiness succeeds while the health checks tagged for readiness pass.</summary>
    Ready = 3,

    /// <summary>
    /// Shutdown has started: readiness fails, the leaving token has fired, the instance leaves its service
    /// registries, and it keeps serving while load balancers and registry caches catch up (the shutdown delay).
    /// </summary>
    Leaving = 4,

    /// <summary>The server stops accepting connections and in-flight requests finish, bounded by the drain timeout.</summary>
    Draining = 5,

    /// <summary>The host has stopped.</summary>
    Stopped = 6,
}
