namespace GracefulLifecycle;

/// <summary>
/// The phases an instance goes through, in order. A phase never goes back to an earlier one.
/// </summary>
public enum LifecyclePhase
{
    /// <summary>The host is starting; the server may not listen yet. Readiness fails.</summary>
    Starting = 0,

    /// <summary>The server listens and preload tasks run. Liveness answers; readiness fails.</summary>
    Preloading = 1,

    /// <summary>Preload work is done: readiness succeeds while the health checks tagged for readiness pass.</summary>
    Ready = 2,

    /// <summary>
    /// Shutdown has started: readiness fails, the leaving token has fired, and the instance keeps serving
    /// while load balancers and registries catch up (the shutdown delay).
    /// </summary>
    Leaving = 3,

    /// <summary>The server stops accepting connections and in-flight requests finish, bounded by the drain timeout.</summary>
    Draining = 4,

    /// <summary>The host has stopped.</summary>
    Stopped = 5,
}
