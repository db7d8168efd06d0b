namespace GracefulLifecycle;

/// <summary>
/// The lifecycle as the request path, the probes and the health check read it: the phase, and nothing to change it.
/// </summary>
internal interface ILifecycleState
{
    LifecyclePhase Phase { get; }

    /// <summary>Occurs after the phase has changed, once per change, in the order of the changes.</summary>
    event EventHandler<LifecyclePhaseChangedEventArgs>? PhaseChanged;
}
